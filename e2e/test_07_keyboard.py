"""Keyboard alone: skip link, signing in, the donation form, errors and focus.

No mouse: every step is Tab, Shift+Tab, typing, Space, the arrow keys or
Enter, and each check reads what the browser has focused.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from conftest import NARROW, STAFF, TREASURER, sign_in

# What the focused element is: enough to tell where the keyboard is.
FOCUSED_JS = """() => {
  const el = document.activeElement;
  const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
  return {tag: el.tagName.toLowerCase(), id: el.id, type: el.type || '', name: el.name || '',
          text: (el.innerText || el.value || '').trim(), label: label.trim(),
          checked: !!el.checked, role: el.getAttribute('role') || '',
          aria_label: el.getAttribute('aria-label') || ''};
}"""

# How the focused element is drawn: its outline and box shadow.
FOCUS_STYLE_JS = """() => {
  const s = getComputedStyle(document.activeElement);
  return {style: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0, shadow: s.boxShadow,
          visible: document.activeElement.matches(':focus-visible')};
}"""


def focused(page: Page) -> dict:
    return page.evaluate(FOCUSED_JS)


def tab_to(page: Page, matches, what: str, limit: int = 60) -> dict:
    """Press Tab until the focused element satisfies ``matches``; return it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        here = focused(page)
        if matches(here):
            return here
    raise AssertionError(f"{limit} presses of Tab never reached {what}")


def assert_focus_visible(page: Page, what: str) -> None:
    """The focused element shows a focus ring: an outline or a box shadow."""
    style = page.evaluate(FOCUS_STYLE_JS)
    outline = style["style"] != "none" and style["width"] > 0
    shadow = style["shadow"] not in ("", "none")
    assert style["visible"], f"{what} is focused but not :focus-visible"
    assert outline or shadow, f"{what} has no visible focus: {style}"


def test_skip_link_and_focus_rings(page: Page, pages) -> None:
    page.goto("/")
    pages.check("home")

    # The first Tab lands on the skip link, shown on screen; Enter moves into the content.
    page.keyboard.press("Tab")
    here = focused(page)
    assert here["tag"] == "a" and here["text"] == "Skip to content", here
    skip = page.get_by_role("link", name="Skip to content")
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the skip link stays off screen"
    assert_focus_visible(page, "the skip link")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main", "Enter on the skip link did not move focus to main"
    # The next Tab is inside the content, past the header's links.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)")

    # A link, an input and a button each show where the keyboard is.
    page.goto("/login")
    pages.check("sign in")
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Give", "the Give link")
    assert_focus_visible(page, "the Give link")
    tab_to(page, lambda f: f["tag"] == "input" and f["label"].startswith("Email"), "Email")
    assert_focus_visible(page, "the Email field")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Sign in", "Sign in")
    assert_focus_visible(page, "the Sign in button")


def test_sign_in_by_keyboard(page: Page, pages) -> None:
    email, password = STAFF
    page.goto("/login")
    pages.check("sign in")
    here = focused(page)
    if not (here["tag"] == "input" and here["label"].startswith("Email")):
        tab_to(page, lambda f: f["tag"] == "input" and f["label"].startswith("Email"), "Email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert focused(page)["label"].startswith("Password")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    pages.check("signed in")
    # Signing out is a button reachable by Tab too.
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Sign out", "Sign out")
    assert_focus_visible(page, "the Sign out button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Staff sign in")).to_be_visible()


def test_donation_form_by_keyboard(page: Page, pages) -> None:
    page.goto("/give")
    pages.check("give")

    # Tab into the amounts, Space chooses one, an arrow moves to the next one.
    first = tab_to(page, lambda f: f["type"] == "radio" and f["name"] == "amount", "an amount")
    page.keyboard.press("Space")
    assert focused(page)["checked"], f"Space did not choose {first['label']}"
    page.keyboard.press("ArrowDown")
    chosen = focused(page)
    assert chosen["type"] == "radio" and chosen["checked"] and chosen["id"] != first["id"]
    amount = chosen["label"]
    assert re.fullmatch(r"\$[\d,]+", amount), f"the second choice is {amount!r}, not a preset"

    # Tab through the other fields to the donor's name and email; Enter sends the form.
    tab_to(page, lambda f: f["label"].startswith("Your name"), "Your name")
    page.keyboard.type("Kim Keyboard")
    page.keyboard.press("Tab")
    assert focused(page)["label"].startswith("Your email")
    page.keyboard.type("kim.keyboard@example.com")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your gift")
    expect(page.get_by_text(re.compile(rf"You give {re.escape(amount)}\.00"))).to_be_visible()
    pages.check("review by keyboard")
    # The way on (and back) is reachable by keyboard too.
    tab_to(page, lambda f: f["text"] == "Continue to secure payment", "the payment button")
    assert_focus_visible(page, "the payment button")


def test_form_errors_by_keyboard(page: Page, pages) -> None:
    page.goto("/give")
    pages.check("give")
    # Send the form with nothing typed: Tab to its button, press Enter.
    tab_to(page, lambda f: f["text"] == "Review my gift", "Review my gift")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Give to")
    pages.check("give with errors")

    # The summary is announced, and names the fields to correct, each a link to its field.
    summary = page.locator(".form-errors")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_visible()
    first_link = summary.get_by_role("link").first
    target = first_link.get_attribute("href")
    assert target and target.startswith("#")

    # The first invalid field points at its error text.
    invalid = page.locator("[aria-invalid=true]").first
    described = (invalid.get_attribute("aria-describedby") or "").split()
    errors = [i for i in described if page.locator(f"#{i}.error").count()]
    assert errors, f"the first invalid field's aria-describedby {described} names no error"
    message = page.locator(f"#{errors[0]}").inner_text().strip()
    assert message, "the error text is empty"

    # Following the summary's link by keyboard reaches the field's group.
    link_text = first_link.inner_text()
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == link_text, "the link")
    assert_focus_visible(page, "the error summary's link")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_report_tables_fit_a_phone_and_take_focus(page: Page, pages) -> None:
    # On a phone a table of figures stacks into cards (issue 11): nothing scrolls sideways and
    # every figure is on screen; its box still takes focus, for the widths where it scrolls.
    sign_in(page, pages, TREASURER)
    page.set_viewport_size({"width": NARROW, "height": 800})
    page.goto("/reports/")
    region = tab_to(page, lambda f: f["role"] == "region", "a table of figures")
    assert region["aria_label"], f"the table's box has no name: {region}"
    assert_focus_visible(page, "the table's box")
    assert page.evaluate(
        "() => document.activeElement.scrollWidth <= document.activeElement.clientWidth"
    )
    net = page.locator(":focus td[data-label='Net']").first
    net.scroll_into_view_if_needed()
    box = net.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= NARROW, box
    page.set_viewport_size({"width": 1280, "height": 900})
    pages.check("reports")
