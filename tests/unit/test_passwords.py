import subprocess
import sys

import pytest

from samrad.passwords import hash_password, password_problems, verify_password


def test_hash_is_argon2id_and_verifies():
    hashed = hash_password("granris-myr-pulka-77")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "granris-myr-pulka-77")
    assert not verify_password(hashed, "granris-myr-pulka-78")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_samrad_hashes_with_the_rfc_9106_low_memory_profile():
    """The suite swaps in a cheap hasher (tests/conftest.py); samrad itself, in a fresh interpreter, uses
    argon2id with 64 MiB, three passes and four lanes, and asks to rehash anything cheaper."""
    code = (
        "from samrad import passwords; "
        "print(passwords.hash_password('granris-myr-pulka-77').rsplit('$', 2)[0]); "
        "print(passwords.needs_rehash(passwords.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)"
        ".hash('x')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["$argon2id$v=19$m=65536,t=3,p=4", "True"]


@pytest.mark.parametrize(
    "password",
    [
        "kort-lösen",
        "Sommar2024!!",
        "Losenord12345",
        "password1234",
        "qwertyuiop123",
        "aaaaaaaaaaaaaaaa",
        "Norrbotten2025",
        "anna.lind@kommun.se",
    ],
)
def test_short_common_or_personal_passwords_are_refused(password):
    assert password_problems(password, user_inputs=("anna.lind@kommun.se", "Anna Lind")) != []


@pytest.mark.parametrize(
    "password", ["granris-myr-pulka-77", "korv med bröd i Kiruna", "Tre små grisar åt kål"]
)
def test_long_unusual_passwords_are_accepted(password):
    assert password_problems(password) == []


def test_too_short_message_names_the_length():
    assert [str(p) for p in password_problems("abc", min_length=14)] == ["Use at least 14 characters."]
