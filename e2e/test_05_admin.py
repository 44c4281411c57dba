"""Admin journeys: create a staff user, who signs in and changes their password; enter the
organisation's Stripe keys, see only their last characters, and remove them."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from conftest import ADMIN, sign_in, sign_out

NEW_EMAIL = "rosa.quintero@example.org"
FIRST_PASSWORD = "first harbor lantern"
NEW_PASSWORD = "second quiet river stone"


def test_admin_creates_staff_user_who_changes_password(page: Page, pages) -> None:
    sign_in(page, pages, ADMIN)
    pages.check("admin dashboard")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    pages.check("users")
    page.get_by_role("link", name=re.compile("add a user", re.I)).click()
    pages.check("add a user")

    # A mismatched confirmation is refused next to its field, and nothing is created.
    page.get_by_label("Name").fill("Rosa Quintero")
    page.get_by_label("Email").fill(NEW_EMAIL)
    page.get_by_label("Role").select_option("staff")
    page.get_by_label(re.compile(r"^Initial password\W*$")).fill(FIRST_PASSWORD)
    page.get_by_label(re.compile("again|confirm", re.I)).fill("something else entirely")
    page.get_by_role("button", name="Create user").click()
    pages.check("add a user with an error")
    confirm = page.get_by_label(re.compile("again|confirm", re.I))
    expect(confirm).to_have_attribute("aria-invalid", "true")
    error_id = confirm.get_attribute("aria-describedby").split()[-1]
    expect(page.locator(f"#{error_id}")).to_be_visible()

    page.get_by_label(re.compile(r"^Initial password\W*$")).fill(FIRST_PASSWORD)
    confirm.fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("cell", name=NEW_EMAIL)).to_be_visible()
    pages.check("users with the new user")
    sign_out(page)

    sign_in(page, pages, (NEW_EMAIL, FIRST_PASSWORD))
    pages.check("staff dashboard")
    page.get_by_role("link", name=re.compile("Rosa Quintero")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    page.get_by_role("link", name="Change your password").click()
    pages.check("change password")
    page.get_by_label("Current password").fill(FIRST_PASSWORD)
    page.get_by_label(re.compile(r"^New password\W*$")).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text(re.compile("password is changed", re.I))).to_be_visible()
    pages.check("password changed")
    sign_out(page)

    # The old password no longer works; the new one does.
    page.goto("/login")
    page.get_by_label("Email").fill(NEW_EMAIL)
    page.get_by_label("Password").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    pages.check("sign in refused")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_admin_enters_stripe_keys_and_removes_them(page: Page, pages) -> None:
    secret, webhook = "sk_test_51E2eJourneyKeyAbc9Q4w", "whsec_e2eJourneySecret7Hk2"
    sign_in(page, pages, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment settings")
    pages.check("payments")

    # A test key with test mode off is refused next to the box; the key is not sent back.
    page.get_by_label("Secret key").fill(secret)
    page.get_by_label("Webhook signing secret").fill(webhook)
    page.get_by_label("Test mode").uncheck()
    page.get_by_role("button", name="Save payment settings").click()
    expect(page.get_by_label("Test mode")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Secret key")).to_have_value("")
    pages.check("payments with an error")

    page.get_by_label("Secret key").fill(secret)
    page.get_by_label("Webhook signing secret").fill(webhook)
    page.get_by_label("Test mode").check()
    page.get_by_role("button", name="Save payment settings").click()
    expect(page.get_by_text("Payment settings saved.")).to_be_visible()
    expect(page.get_by_text("…9Q4w")).to_be_visible()
    assert secret not in page.content() and webhook not in page.content()
    pages.check("payments saved")

    # Back to the demo's test mode for the pages that follow.
    page.get_by_role("button", name="Remove the stored keys").click()
    expect(page.get_by_text("Removed the stored payment settings.")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("Test mode")
    pages.check("payments removed")
