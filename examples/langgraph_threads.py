"""One LangGraph chat graph, many users and threads: one Dify conversation per thread.

Each run of this script is a new process. The graph's checkpointer keeps every
thread's messages, the Dify ``AIMessage``s with their ids and ``conversation_id``
included, so the next run of the same thread continues the same Dify conversation
(only the new question is sent). The Dify end user comes per request from
``config["configurable"]["dify_user"]``, so one compiled graph serves every user.

Try it against the emulator (or your Dify: set the key and URL of a chat app)::

    python -m dify_emulator &
    export DIFY_API_KEY=app-emulator-chat DIFY_BASE_URL=http://127.0.0.1:5055/v1
    python examples/langgraph_threads.py --user alice --thread t1 "My name is Alice."
    python examples/langgraph_threads.py --user alice --thread t1 "What is my name?"
    python examples/langgraph_threads.py --user bob --thread t2 "Hello"

The checkpoints live in ``--state`` (default ``./.langgraph-state``), as pickle files
written by LangGraph's own ``PersistentDict`` behind an ``InMemorySaver``: enough for a
demo. In production use a shared checkpointer (``langgraph-checkpoint-postgres`` or
``-sqlite``): the graph code stays the same.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver, PersistentDict
from langgraph.graph import START, MessagesState, StateGraph

from langchain_dify import ChatDify


def file_saver(directory: Path) -> InMemorySaver:
    """An ``InMemorySaver`` whose three tables are loaded from and saved to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    names = iter(("storage", "writes", "blobs"))

    def table(*args: Any) -> PersistentDict:
        saved = PersistentDict(*args, filename=str(directory / f"{next(names)}.pickle"))
        if os.path.exists(saved.filename):
            saved.load()
        return saved

    factory: Any = table  # LangGraph calls it like the defaultdict class it expects
    return InMemorySaver(factory=factory)


def build_graph(llm: ChatDify, saver: InMemorySaver) -> Any:
    """A one-node chat graph: the node sends the thread's messages to Dify."""

    def chat(state: MessagesState) -> dict[str, Any]:
        # No config is passed: ChatDify reads the node's config (dify_user) itself.
        return {"messages": [llm.invoke(state["messages"])]}

    return (
        StateGraph(MessagesState)
        .add_node("chat", chat)
        .add_edge(START, "chat")
        .compile(checkpointer=saver)
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Ask one question in a thread; print and return the answer and its ids as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question")
    parser.add_argument("--user", required=True, help="the Dify end user of this request")
    parser.add_argument("--thread", required=True, help="the LangGraph thread id")
    parser.add_argument("--state", default=".langgraph-state", help="checkpoint directory")
    args = parser.parse_args(argv)

    config = {"configurable": {"thread_id": args.thread, "dify_user": args.user}}
    with ChatDify() as llm, file_saver(Path(args.state)) as saver:
        graph = build_graph(llm, saver)
        tokens = [
            chunk.content
            for chunk, _ in graph.stream(
                {"messages": [HumanMessage(args.question)]}, config, stream_mode="messages"
            )
            if isinstance(chunk.content, str) and chunk.content
        ]
        messages = graph.get_state(config).values["messages"]
    answers = [m for m in messages if isinstance(m, AIMessage)]
    out = {
        "answer": answers[-1].content,
        "streamed": "".join(tokens),
        "conversation_id": answers[-1].response_metadata["conversation_id"],
        "message_ids": [m.id for m in answers],
        "turns": len(answers),
    }
    print(json.dumps(out))  # noqa: T201 - the script's output
    return out


if __name__ == "__main__":
    main()
