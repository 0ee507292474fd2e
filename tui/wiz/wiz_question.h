/* wiz_question — the screens of the question pages: an explanation (info),
 * a list to pick from (choice), fields to fill in (form). */
#ifndef FERRY_WIZ_QUESTION_H
#define FERRY_WIZ_QUESTION_H

#include "wiz/wiz_app.h"

extern const struct wiz_app_screen wiz_question_info;
extern const struct wiz_app_screen wiz_question_choice;
extern const struct wiz_app_screen wiz_question_form;

#endif
