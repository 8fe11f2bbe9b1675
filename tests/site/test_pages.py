"""The landing page and the README page."""

from __future__ import annotations

import re

from app import __version__, create_app
from app.site import pages
from tests.base import ApiTestCase, mongo_uri


class LandingPageTest(ApiTestCase):
    def test_landing_page_shows_name_version_environment_and_links(self) -> None:
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, "text/html")
        html = response.get_data(as_text=True)
        for text in ("Flask MongoDB API", f"v{__version__}", "testing", 'href="/docs"', 'href="/health"'):
            with self.subTest(text=text):
                self.assertIn(text, html)

    def test_landing_page_links_every_readme_section_to_an_existing_anchor(self) -> None:
        html = self.client.get("/").get_data(as_text=True)
        anchors = re.findall(r'href="/readme#([^"]+)"', html)
        self.assertIn("quick-start", anchors)
        self.assertIn("configuration", anchors)
        readme = self.client.get("/readme").get_data(as_text=True)
        for anchor in anchors:
            with self.subTest(anchor=anchor):
                self.assertIn(f'id="{anchor}"', readme)

    def test_pages_use_no_javascript_and_no_external_assets(self) -> None:
        for path in ("/", "/readme"):
            with self.subTest(path=path):
                response = self.client.get(path)
                html = response.get_data(as_text=True)
                self.assertNotIn("<script", html)
                self.assertIsNone(re.search(r'src="https?://|<link[^>]+href="https?://', html))
                policy = response.headers["Content-Security-Policy"]
                self.assertIn("style-src 'self'", policy)
                self.assertNotIn("script-src", policy)
        self.assertEqual(self.client.get("/static/style.css").status_code, 200)

    def test_readme_renders_tables_and_code(self) -> None:
        html = self.client.get("/readme").get_data(as_text=True)
        self.assertIn("<table>", html)
        self.assertIn("<pre><code", html)

    def test_readme_missing_from_deployment_is_404(self) -> None:
        original = pages.README
        pages.render.cache_clear()
        pages.README = original.with_name("NO-SUCH-README.md")
        self.addCleanup(pages.render.cache_clear)
        self.addCleanup(setattr, pages, "README", original)
        self.assertError(self.client.get("/readme"), 404)
        self.assertEqual(self.client.get("/").status_code, 200)

    def test_readme_links_to_the_docs_pages_which_render_and_link_back(self) -> None:
        readme = self.client.get("/readme").get_data(as_text=True)
        self.assertNotIn('href="docs/', readme)  # a relative link would land on Swagger UI's /docs/
        linked = set(re.findall(r'href="/readme/([a-z0-9-]+\.md)', readme))
        self.assertIn("api.md", linked)
        self.assertEqual(linked, {path.name for path in pages.DOCS.glob("*.md")} & linked)
        for name in sorted(linked):
            with self.subTest(page=name):
                response = self.client.get(f"/readme/{name}")
                self.assertEqual((response.status_code, response.mimetype), (200, "text/html"))
                self.assertNotIn("script-src", response.headers["Content-Security-Policy"])
        api = self.client.get("/readme/api.md").get_data(as_text=True)
        self.assertIn('href="/readme"', api)  # its ../README.md links
        security = self.client.get("/readme/security.md").get_data(as_text=True)
        self.assertIn('href="/readme/deployment.md"', security)  # a sibling page
        self.assertIn('href="/readme"', security)  # every page links back, its text or not

    def test_other_page_names_are_json_404s(self) -> None:
        before = pages.render.cache_info().currsize
        long_name = "/readme/" + "a" * 253 + ".md"  # over the file system's name limit: was a 500
        for path in (
            "/readme/nope.md",
            "/readme/README.md",
            "/readme/api",
            "/readme/..%2Fconfig.py",
            "/readme/.md",
            long_name,
        ):
            with self.subTest(path=path):
                self.assertError(self.client.get(path), 404)
        self.assertEqual(pages.render.cache_info().currsize, before)  # unknown names are not cached

    def test_page_url_maps_repository_files_to_pages(self) -> None:
        self.assertEqual(pages.page_url("README.md"), "/readme")
        self.assertEqual(pages.page_url("docs/api.md"), "/readme/api.md")
        for target in ("config.py", "docs/sub/x.md", "../etc/passwd", "docs/API.md"):
            with self.subTest(target=target):
                self.assertIsNone(pages.page_url(target))

    def test_slug_matches_github_anchors(self) -> None:
        self.assertEqual(
            pages.slug("The database: real MongoDB, or an embedded one"), "the-database-real-mongodb-or-an-embedded-one"
        )
        self.assertEqual(pages.slug("Users and authentication"), "users-and-authentication")


class LandingPageEnvironmentTest(ApiTestCase):
    def test_production_landing_page_does_not_name_the_environment(self) -> None:
        settings = {
            "MONGODB_URI": mongo_uri(),
            "MONGODB_DB": self.db.name,
            "SECRET_KEY": "s" * 40,
            "MAIL_SERVER": "127.0.0.1",
        }
        html = create_app("production", settings).test_client().get("/").get_data(as_text=True)
        self.assertIn("Flask MongoDB API", html)
        self.assertNotIn("production", html)


class FirstHourPagesTest(ApiTestCase):
    def test_favicon_is_an_icon_linked_from_every_page(self) -> None:
        response = self.client.get("/favicon.ico")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, "image/vnd.microsoft.icon")
        self.assertEqual(response.data[:4], b"\x00\x00\x01\x00")  # the ICO signature
        for page in ("/", "/readme", "/docs"):
            with self.subTest(page=page):
                self.assertIn('rel="icon" href="/favicon.ico"', self.client.get(page).get_data(as_text=True))

    def test_readme_tables_scroll_inside_their_box_on_a_phone(self) -> None:
        page = self.client.get("/readme").get_data(as_text=True)
        self.assertIn('name="viewport" content="width=device-width, initial-scale=1"', page)
        css = self.client.get("/static/style.css").get_data(as_text=True)
        rule = re.search(r"\.readme table \{([^}]*)\}", css)
        self.assertIsNotNone(rule)
        declarations = rule.group(1) if rule else ""
        self.assertIn("display: block", declarations)  # a table box can scroll only as a block
        self.assertIn("overflow-x: auto", declarations)
        self.assertIn("max-width: 100%", declarations)

    def test_docs_links_back_to_the_landing_page(self) -> None:
        page = self.client.get("/docs").get_data(as_text=True)
        self.assertRegex(page, r'<a href="/">[^<]*Home</a>')
