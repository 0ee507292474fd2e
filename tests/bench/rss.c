/* rss — LD_PRELOAD helper of tests/bench/run.sh: when the process that loaded
 * it is the ferry binary under test ($FERRY_BENCH_RSS_EXE), append
 * "PID MAXRSS_KIB COMMAND" to $FERRY_BENCH_RSS_LOG as it exits.  getrusage
 * (RUSAGE_SELF) counts ferry alone, not pg_dump/pg_restore children (which
 * /usr/bin/time -v would fold in).  Every other program it is loaded into
 * (children inherit LD_PRELOAD) writes nothing. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

__attribute__((destructor)) static void ferry_bench_rss(void)
{
	const char *log = getenv("FERRY_BENCH_RSS_LOG");
	const char *exe = getenv("FERRY_BENCH_RSS_EXE");
	char self[4096], cmd[256] = "";
	struct rusage ru;
	ssize_t n;
	int fd;

	if (!log || !exe)
		return;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		return;
	self[n] = '\0';
	if (strcmp(self, exe) != 0)
		return;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return;
	fd = open("/proc/self/cmdline", O_RDONLY);
	if (fd >= 0) {
		/* argv[0] NUL argv[1] NUL ...: keep argv[1], the command. */
		char buf[512];
		ssize_t m = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (m > 0) {
			buf[m] = '\0';
			size_t a0 = strlen(buf);
			if ((ssize_t)a0 + 1 < m)
				snprintf(cmd, sizeof cmd, "%s", buf + a0 + 1);
		}
	}
	fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	dprintf(fd, "%ld %ld %s\n", (long)getpid(), (long)ru.ru_maxrss, cmd[0] ? cmd : "-");
	close(fd);
}
