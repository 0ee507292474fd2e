--
-- PostgreSQL database cluster dump
--

\restrict t9qp8DTEFBeCKeqdTwjjs3heBOe60FhRlmVe2W

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

CREATE ROLE app;
ALTER ROLE app WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
COMMENT ON ROLE app IS 'it''s app';
CREATE ROLE "we;ird";
ALTER ROLE "we;ird" WITH NOSUPERUSER INHERIT LOGIN CONNECTION LIMIT 3 VALID UNTIL '2030-01-01 00:00:00+00';
ALTER ROLE app SET search_path TO 'a', 'B';
ALTER ROLE app IN DATABASE shop SET work_mem TO '8MB';
GRANT app TO "we;ird" WITH ADMIN OPTION GRANTED BY postgres;
GRANT app TO reader WITH INHERIT TRUE, SET FALSE GRANTED BY postgres;

\unrestrict t9qp8DTEFBeCKeqdTwjjs3heBOe60FhRlmVe2W
