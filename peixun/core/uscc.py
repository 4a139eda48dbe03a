"""统一社会信用代码 (GB 32100-2015). A failed check is a warning, not a rejection (rules.md)."""

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_problem(raw: str) -> str | None:
    """None when the code is well-formed with a right check character, else a Chinese warning."""
    value = (raw or "").strip().upper()
    if len(value) != 18:
        return f"统一社会信用代码应为18位，实际为{len(value)}位"
    bad = sorted({c for c in value if c not in USCC_CHARS})
    if bad:
        return f"统一社会信用代码含有不允许的字符：{''.join(bad)}"
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(value[:17], USCC_WEIGHTS, strict=True))
    check = 31 - total % 31
    expected = USCC_CHARS[0 if check == 31 else check]
    if value[17] != expected:
        return "统一社会信用代码校验位不符，请核对（仅提示，不影响保存）"
    return None


def uscc_complete(first17: str) -> str:
    """The 18-character code for 17 given characters: the check character appended (demo data,
    the generator and tests make valid codes with it)."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    check = 31 - total % 31
    return first17 + USCC_CHARS[0 if check == 31 else check]
