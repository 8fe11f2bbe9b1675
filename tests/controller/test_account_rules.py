"""The account rules: email, name and password policies, on a real database and without an app."""

from __future__ import annotations

from controller import account_rules, user
from controller.errors import Conflict, InvalidInput
from tests.base import DatabaseTestCase
from tests.utils.factories import PASSWORD, auth_settings


class AccountRulesTest(DatabaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.auth = auth_settings()

    def test_signup_normalises_email_and_hashes_with_argon2id(self) -> None:
        created = user.signup(self.db, self.auth, email=" Ada@EXAMPLE.com", password=PASSWORD, name="Ada")
        self.assertEqual(created["email"], "ada@example.com")
        self.assertTrue(created["password_hash"].startswith("$argon2id$"))
        self.assertNotIn("password_hash", account_rules.user_public(created))
        self.assertNotIn("token_version", account_rules.user_public(created))

    def test_signup_twice_is_conflict(self) -> None:
        user.signup(self.db, self.auth, email="a@example.com", password=PASSWORD, name="A")
        with self.assertRaises(Conflict):
            user.signup(self.db, self.auth, email="A@example.com", password=PASSWORD, name="A")

    def test_normalize_email_rejects_non_addresses(self) -> None:
        for bad in ("", "plain", "a@b", "a@@b.c", "a b@c.d", "@b.c", "a@.c", "a@b.c" + "x" * 260):
            with self.subTest(bad=bad), self.assertRaises(InvalidInput):
                account_rules.normalize_email(bad)

    def test_normalize_email_refuses_control_and_bidi_characters(self) -> None:
        for bad in ("a@example.com\u0000.evil", "a\u202e@example.com", "a@exam\u202eple.com", "a\u0007@example.com"):
            with self.subTest(bad=ascii(bad)), self.assertRaises(InvalidInput):
                account_rules.normalize_email(bad)

    def test_normalize_name_refuses_control_line_break_and_bidi_characters(self) -> None:
        for bad in (
            "Ada\r\nBcc: x",
            "Ada\nLovelace",
            "Ada\u0000",
            "Ada\u202eecalevoL",
            "A\u2066da",
            "Ada\u2028B",
            "A\tda",
        ):
            with self.subTest(bad=ascii(bad)), self.assertRaises(InvalidInput) as caught:
                account_rules.normalize_name(bad)
            self.assertIn("control", caught.exception.fields["name"])  # type: ignore[index]

    def test_normalize_name_keeps_unicode_names_and_emoji_sequences(self) -> None:
        for good in (
            "Zo\u00e9 \u00c5str\u00f6m",
            "\u674e\u5c0f\u9f99",
            "\u05d3\u05e0\u05d4",
            "Ada \U0001f468\u200d\U0001f4bb",
        ):
            with self.subTest(good=ascii(good)):
                self.assertEqual(account_rules.normalize_name(f" {good} "), good)

    def test_normalize_email_normalises_unicode_and_case(self) -> None:
        decomposed = "Zoe\u0301@Example.COM"
        self.assertEqual(account_rules.normalize_email(decomposed), "zo\u00e9@example.com")

    def test_find_account_uses_the_same_normalisation(self) -> None:
        created = user.signup(self.db, self.auth, email="ada@example.com", password=PASSWORD, name="Ada")
        found = account_rules.find_account(self.db, "  ADA@example.com ")
        self.assertIsNotNone(found)
        self.assertEqual(found["_id"], created["_id"])  # type: ignore[index]
        self.assertIsNone(account_rules.find_account(self.db, "nobody@example.com"))

    def test_password_policy_bounds(self) -> None:
        account_rules.check_password_policy("x" * 8)
        account_rules.check_password_policy("x" * 256)
        for bad in ("x" * 7, "x" * 257, " " * 9):
            with self.subTest(length=len(bad)), self.assertRaises(InvalidInput):
                account_rules.check_password_policy(bad)
