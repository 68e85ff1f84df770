"""PausedRun.form_token: the one rule picking the form a resume answers (both adapters use it)."""

from __future__ import annotations

import pytest

from dify_transport import DifyError
from dify_transport.types import PausedRun


def paused(**forms: str | None) -> PausedRun:
    return PausedRun.model_validate(
        {"forms": {n: {"node_id": n, "form_token": t} for n, t in forms.items()}}
    )


def test_the_one_pending_form_needs_no_node_id() -> None:
    assert paused(review="tok-1").form_token() == "tok-1"


def test_several_forms_need_a_node_id_and_name_them() -> None:
    two = paused(a="tok-a", b="tok-b")
    assert two.form_token("b") == "tok-b"
    with pytest.raises(
        DifyError, match=r"2 forms are pending; pass node_id= \(one of \['a', 'b'\]\)"
    ):
        two.form_token()


@pytest.mark.parametrize("node_id", ["missing", "elsewhere"])
def test_an_unknown_or_tokenless_form_says_to_answer_it_where_dify_delivers_it(
    node_id: str,
) -> None:
    with pytest.raises(DifyError, match="no form token"):
        paused(a="tok-a", elsewhere=None).form_token(node_id)
