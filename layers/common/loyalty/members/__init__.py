"""Members and the referral tree: sign-up under a referrer, member reads, the tree, contact preferences."""
