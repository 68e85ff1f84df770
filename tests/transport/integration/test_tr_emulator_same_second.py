"""Issue 14: the emulator's one-second clock (``same_second=1``) and paging that skips nothing."""

from __future__ import annotations

import uuid

from dify_emulator import FAULT_HEADER, Emulator
from dify_transport import DifyClient

SAME_SECOND = {FAULT_HEADER: "same_second=1"}


def test_same_second_pages_skip_with_a_strict_cursor_but_not_in_iter_messages(
    emulator: Emulator,
) -> None:
    user = f"tr-{uuid.uuid4().hex[:8]}"
    with DifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url, http_client=None) as c:
        first = c.chat("turn 0", user=user)
        cid = first.conversation_id
        assert cid is not None
        sent = [first.message_id] + [
            c.chat(f"turn {i}", user=user, conversation_id=cid).message_id for i in range(1, 7)
        ]
        newest = c.get_messages(cid, user=user, limit=3, extra_headers=SAME_SECOND)
        seconds = {m.created_at for m in c.iter_messages(cid, user=user)}
        if len(seconds) == 1:  # all seven turns in one second (the usual case)
            # ties come back out of order, and the cursor skips the rest of the second
            assert [m.id for m in newest.data] == sent[:3][::-1]
            older = c.get_messages(
                cid, user=user, first_id=newest.data[0].id, limit=3, extra_headers=SAME_SECOND
            )
            assert older.data == []
        for size in (1, 2, 3, 100):
            got = [
                m.id
                for m in c.iter_messages(cid, user=user, page_size=size, extra_headers=SAME_SECOND)
            ]
            assert sorted(got) == sorted(sent)
            assert len(got) == len(set(got))
