"""TRUSTED_ORIGINS in a current browser: Chromium labels the post same-site or cross-site.

A page on a trusted origin posts a form to the app: allowed, and Chromium's own
Sec-Fetch-Site header is recorded to show which generation of check it met. The same
form on an origin that is not trusted is refused.
"""

import contextlib

import pytest

from session_counter.servers.harness import running_server

from .browser import SecondOrigin

pytestmark = [pytest.mark.browser, pytest.mark.server]

FORM = '<form method="post" action="{url}/inc"><button type="submit">count</button></form>'


@pytest.fixture(scope="module")
def sites():
    """Two trusted sites (127.0.0.1 and localhost, other ports), one untrusted, and the app."""
    with contextlib.ExitStack() as stack:
        pages = {}
        for name, host in (("same-site", "127.0.0.1"), ("cross-site", "localhost"),
                           ("untrusted", "127.0.0.1")):
            pages[name] = SecondOrigin("", host=host)  # bound now: its origin is known
        trusted = ",".join(pages[name].url.rstrip("/") for name in ("same-site", "cross-site"))
        server = stack.enter_context(running_server("dev", config={"TRUSTED_ORIGINS": trusted}))
        for page in pages.values():
            page.body = FORM.format(url=server.url).encode()
            stack.enter_context(page)
        yield server, pages


def post_from(new_context, site):
    """Open ``site`` in a fresh context, submit its form; return (response, Sec-Fetch-Site)."""
    page = new_context().new_page()
    sent = []
    page.on("request", lambda r: sent.append(r.all_headers()) if r.method == "POST" else None)
    page.goto(site.url)
    with page.expect_navigation():
        page.get_by_role("button", name="count").click()
    return page, sent[0]


@pytest.mark.parametrize("label", ["same-site", "cross-site"])
def test_a_trusted_origin_may_post_in_a_current_browser(new_context, sites, label):
    server, pages = sites
    page, headers = post_from(new_context, pages[label])
    assert headers.get("sec-fetch-site") == label  # Chromium labelled it so
    assert headers.get("origin") == pages[label].url.rstrip("/")
    assert page.url == server.url + "/"  # the form post was accepted and redirected
    assert "Cross-site request refused" not in page.content()


def test_an_untrusted_origin_is_refused_in_a_current_browser(new_context, sites):
    server, pages = sites
    page, headers = post_from(new_context, pages["untrusted"])
    assert headers.get("sec-fetch-site") == "same-site"
    assert page.url == server.url + "/inc"
    assert "Cross-site request refused" in page.content()
