"""Two-step sign-in: the demo has it off and says so; the treasurer sets it up, signs in
with a recovery code, and the admin resets it for them (a lost phone)."""

from __future__ import annotations

import re

import pyotp
from playwright.sync_api import Page, expect

from conftest import ADMIN, TREASURER, expect_error_next_to, sign_in, sign_out


def password_only(page: Page, account: tuple[str, str]) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(account[0])
    page.get_by_label("Password").fill(account[1])
    page.get_by_role("button", name="Sign in").click()


def test_demo_dashboard_says_two_step_sign_in_is_off(page: Page, pages) -> None:
    sign_in(page, pages, ADMIN)
    expect(page.locator("#two-step-off")).to_contain_text("Two-step sign-in is off")
    pages.check("admin dashboard, two-step off")


def test_treasurer_sets_up_two_step_sign_in_and_uses_a_recovery_code(page: Page, pages) -> None:
    sign_in(page, pages, TREASURER)
    page.locator(".account a").first.click()
    pages.check("your account")
    page.get_by_role("link", name="Set up two-step sign-in").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    pages.check("set up two-step sign-in")

    # A wrong code is refused next to the field.
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect_error_next_to(page, page.get_by_label("Code"), "does not match")
    pages.check("set up two-step sign-in, wrong code")

    secret = page.locator(".two-step-key").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    pages.check("recovery codes")
    page.get_by_role("link", name="I have kept them").click()
    expect(page.get_by_text("9 unused recovery codes")).to_have_count(0)
    expect(page.get_by_text("10 unused recovery codes")).to_be_visible()
    page.goto("/dashboard")  # the account page has "Sign out everywhere" too
    sign_out(page)

    # The password alone now leads to the second step.
    password_only(page, TREASURER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    pages.check("second step")
    page.get_by_label("Code").fill("123456")
    page.get_by_role("button", name="Sign in").click()
    expect_error_next_to(page, page.get_by_label("Code"), "not right")
    pages.check("second step, wrong code")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(re.compile("recovery code; 9 left"))).to_be_visible()
    sign_out(page)


def test_admin_resets_the_treasurers_two_step_sign_in(page: Page, pages) -> None:
    sign_in(page, pages, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.get_by_role("row", name=re.compile(TREASURER[0])).get_by_role("link").first.click()
    expect(page.get_by_text(re.compile("^On since"))).to_be_visible()
    pages.check("user with two-step sign-in")
    page.get_by_role("button", name=re.compile("^Reset two-step sign-in")).click()
    expect(page.get_by_text(re.compile("Two-step sign-in is reset for"))).to_be_visible()
    page.goto("/dashboard")  # the user's page has "Sign out everywhere" too
    sign_out(page)

    # The treasurer signs in with the password only again (the demo does not require it).
    sign_in(page, pages, TREASURER)
