"""Helpers the customer modules share."""


def _d(value) -> str:
    return f"DATE '{value.isoformat()}'"

