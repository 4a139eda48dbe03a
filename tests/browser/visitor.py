"""One browser context (one user's cookies) with its console errors and screenshots, shared by the
browser tests. Every page must log no console error: the Content-Security-Policy forbids inline
scripts, and a blocked one would show up as such an error."""

import re

from playwright.sync_api import expect

from tests.conftest import PASSWORD


class Visitor:
    def __init__(self, browser, base_url, screenshot_dir, prefix, viewport, **context_options):
        self.base_url = base_url
        self.screenshot_dir = screenshot_dir
        self.prefix = prefix
        self.context = browser.new_context(
            viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai", **context_options
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"{self.page.url}: {exc}"))

    def _console(self, message):
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text}")

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"

    def status_of(self, path: str) -> int:
        """Without navigating: a 404 page would log a console error."""
        return self.page.request.get(self.base_url + path).status

    def login(self, username: str, password: str = PASSWORD):
        self.goto("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def shot(
        self, name: str, *, full_page: bool = False, element: str | None = None, scroll_to: str | None = None
    ):
        """At the viewport by default (1280x800, the size the guide uses)."""
        path = self.screenshot_dir / f"{self.prefix}-{name}.png"
        self.page.mouse.move(0, 0)  # no hover state left on the button just clicked
        if element:
            self.page.locator(element).screenshot(path=path)
            return
        if scroll_to:
            self.page.locator(scroll_to).first.scroll_into_view_if_needed()
        elif not full_page:
            self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=path, full_page=full_page)

    def menu_link(self, label: str):
        # The link's text is exactly the label (its accessible name also holds the icon's glyph).
        exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
        return self.page.locator("#px-menu .nav-link").filter(has_text=exact)

    def menu(self, label: str, *, heading: bool = True):
        self.menu_link(label).click()
        self.page.wait_for_load_state()
        if heading:
            expect(self.page.locator("h1")).to_contain_text(label)

    def menu_labels(self) -> list[str]:
        return [t.strip() for t in self.page.locator("#px-menu .nav-link").all_text_contents()]

    def click(self, role: str, name: str, within=None):
        (within or self.page).get_by_role(role, name=name).click()
        self.page.wait_for_load_state()

    def submit(self, label: str):
        self.click("button", label)

    def scroll_width(self) -> int:
        return self.page.evaluate("document.scrollingElement.scrollWidth")
