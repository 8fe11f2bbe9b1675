"""deploy/nginx.conf as a file: its error pages, its limits and its rendering for one machine (no nginx needed)."""

from __future__ import annotations

import json
import re
import unittest
from pathlib import Path

from app.http.errors import default_code
from config import Config
from deploy import nginx

TEXT = nginx.TEMPLATE.read_text()
PAGE = re.compile(r"location = /_error/(\d+) \{\s*return (\d+) '(.*?)\\n';", re.DOTALL)


class ErrorPagesTest(unittest.TestCase):
    def test_every_error_nginx_answers_has_a_json_page(self) -> None:
        pages = {
            int(status): target for status, target in re.findall(r"error_page (\d+) (?:=\d+ )?/_error/(\d+);", TEXT)
        }
        for status in (400, 408, 413, 414, 429, 494, 502, 503, 504):
            self.assertIn(status, pages)
        self.assertEqual(pages[494], "431")  # nginx's own code for headers that are too large

    def test_error_pages_are_the_app_envelope_with_the_app_codes(self) -> None:
        pages = PAGE.findall(TEXT)
        self.assertGreaterEqual(len(pages), 10)
        for location, status, body in pages:
            error = json.loads(body.replace("$request_id", "abc"))["error"]
            self.assertEqual(location, status)
            self.assertEqual(error["status"], int(status))
            self.assertEqual(error["code"], default_code(int(status)))
            self.assertEqual(error["request_id"], "abc")
            self.assertTrue(error["message"])

    def test_body_limit_is_max_content_length(self) -> None:
        megabytes = re.findall(r"client_max_body_size (\d+)m;", TEXT)
        self.assertEqual([int(size) * 1024 * 1024 for size in megabytes], [Config.MAX_CONTENT_LENGTH])

    def test_client_address_is_appended_for_proxy_count_one(self) -> None:
        self.assertIn("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", TEXT)

    def test_the_app_always_gets_the_proxy_request_id(self) -> None:
        self.assertIn("proxy_set_header X-Request-ID $request_id;", TEXT)
        self.assertNotIn("$http_x_request_id", TEXT)

    def test_connections_are_limited_per_client_address_with_a_json_429(self) -> None:
        self.assertIn("limit_conn_zone $binary_remote_addr zone=per_address:10m;", TEXT)
        self.assertRegex(TEXT, r"limit_conn per_address \d+;")
        self.assertIn("limit_conn_status 429;", TEXT)


class RenderTest(unittest.TestCase):
    def test_render_listens_locally_and_lists_the_instances(self) -> None:
        text = nginx.render(
            listen="127.0.0.1:8080",
            instances=["127.0.0.1:9001", "127.0.0.1:9002"],
            run_dir=Path("/run/x"),
            down={"127.0.0.1:9002"},
            max_open_files=20000,
        )
        self.assertIn("listen 127.0.0.1:8080 default_server;", text)
        self.assertIn("server 127.0.0.1:9001 max_fails=0;", text)
        self.assertIn("server 127.0.0.1:9002 max_fails=0 down;", text)
        self.assertIn("worker_rlimit_nofile 20000;", text)  # capped at the hard limit given
        self.assertIn("worker_connections 20000;", text)
        self.assertNotIn("server app:8000", text)
        self.assertTrue(text.startswith("pid /run/x/nginx.pid;\ndaemon off;\n"))
        self.assertIn("client_body_temp_path /run/x/client_body;", text)

    def test_render_refuses_a_template_without_its_markers(self) -> None:
        with self.assertRaises(ValueError):
            nginx.render(listen="127.0.0.1:1", instances=["127.0.0.1:2"], run_dir=Path("/x"), template="http {\n}\n")

    def test_find_nginx_says_how_to_install_it(self) -> None:
        try:
            self.assertTrue(Path(nginx.find_nginx()).exists())
        except nginx.NginxNotFound as error:
            self.assertIn("apt-get install nginx", str(error))
