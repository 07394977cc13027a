"""The referral tree: codes members share, and the path from a member up to the root.

The referrer is fixed once, at sign-up, and must already be a member. A new member cannot be
anybody's ancestor yet, so neither self-referral nor a cycle can ever be written: the tree is
acyclic by construction, not by a check that could race.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from loyalty.program import MAX_REFERRAL_LEVELS

# Crockford-like alphabet without the characters people misread (0/O, 1/I/L) or that spell words (U).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8  # 30^8 ≈ 6.6e11 codes: ~39 bits, unguessable at any plausible guessing rate
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def new_referral_code() -> str:
    """A fresh random code from a cryptographic source."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_referral_code(text: str) -> str | None:
    """The canonical form of a code as a person typed it, or None if it cannot be a code."""
    code = re.sub(r"[\s-]", "", text).upper()
    return code if CODE_PATTERN.match(code) else None


@dataclass(frozen=True)
class ReferralPath:
    """A member's ancestors, nearest first (index 0 = level 1), at most MAX_REFERRAL_LEVELS long.

    Stored with the member at sign-up, so crediting a purchase needs no walk up the tree.
    """

    ancestors: tuple[str, ...] = ()

    @classmethod
    def below(cls, referrer_id: str, referrer_path: ReferralPath) -> ReferralPath:
        """The path of a new member whose referrer is ``referrer_id``."""
        return cls((referrer_id, *referrer_path.ancestors)[:MAX_REFERRAL_LEVELS])

    @property
    def referrer_id(self) -> str | None:
        return self.ancestors[0] if self.ancestors else None
