"""Checks of free text that ends up where a line break does harm (email subjects, one-line labels)."""

LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits on
ONE_LINE_MESSAGE = "must be on one line; it holds a line break"


def has_line_break(text: str) -> bool:
    return any(char in text for char in LINE_BREAKS)
