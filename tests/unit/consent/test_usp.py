"""decode_usp: the US Privacy string of reference/consent.md section 3."""

import pytest
from ttrelay.consent.errors import ConsentStringError
from ttrelay.consent.usp import decode_usp


@pytest.mark.parametrize(
    ("text", "opted_out"),
    [("1YNN", False), ("1YYN", True), ("1-Y-", True), ("1---", False), ("1NYY", True), ("1YN-", False)],
)
def test_valid_strings(text: str, opted_out: bool) -> None:
    decoded = decode_usp(text)
    assert decoded.version == 1
    assert (decoded.notice, decoded.opt_out_sale, decoded.lspa) == tuple(text[1:])
    assert decoded.opted_out_of_sale() is opted_out
    assert decoded.raw == text
    assert decoded.as_dict() == {"uspString": text}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "1YN",
        "1YNNN",
        "2YNN",
        "0YNN",
        "1ynn",
        "1YNX",
        " 1YNN",
        "1YNN ",
        "1YNN\n",
        "\uff11YNN",
        "1YN~",
    ],
)
def test_malformed_strings_reject(text: str) -> None:
    with pytest.raises(ConsentStringError) as caught:
        decode_usp(text)
    assert caught.value.kind == "usp"
    assert str(caught.value).startswith("usp: ")


def test_non_text_input_rejects() -> None:
    with pytest.raises(ConsentStringError):
        decode_usp(1234)  # type: ignore[arg-type]
