"""Write ``notebooks/*.ipynb`` from the cells below (the single source of the notebooks).

Run ``.venv/bin/python scripts/make_notebooks.py`` after editing a cell here;
``--check`` exits 1 when a stored notebook differs from what this script writes
(``tests/docs/test_notebooks.py`` runs that check, so hand edits in Jupyter must be
copied back here). Notebooks are stored without outputs and with stable cell ids.

Every notebook starts the offline emulator itself unless ``DIFY_BASE_URL`` and
``DIFY_API_KEY`` are set, and ``make test`` executes each one top to bottom.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"

Cell = tuple[str, str]


def md(text: str) -> Cell:
    return ("markdown", textwrap.dedent(text).strip())


def code(text: str) -> Cell:
    return ("code", textwrap.dedent(text).strip())


SETUP_MD = md(
    """
    ## Setup: your Dify, or the offline emulator

    If `DIFY_BASE_URL` and `DIFY_API_KEY` are set (a chat app's key; the Service API
    root ending in `/v1`), this notebook talks to your Dify. Otherwise it starts
    the emulator that ships with the package: a Dify-compatible Service API on
    127.0.0.1 with a small knowledge base, so no account is needed. The cell then
    sets the same variables a real user would, and every cell below reads them.
    """
)

SETUP = code(
    """
    import os

    from dify_transport.emulator import start_emulator

    emu = None
    if os.environ.get("DIFY_BASE_URL") and os.environ.get("DIFY_API_KEY"):
        print("Using your Dify at", os.environ["DIFY_BASE_URL"])
    else:
        emu = start_emulator()  # stopped in the last cell
        os.environ.update(
            DIFY_BASE_URL=emu.base_url,
            DIFY_API_KEY=emu.keys.chat,
            DIFY_DATASET_API_KEY=emu.keys.dataset,
            DIFY_DATASET_ID=emu.dataset_id,
        )
        print("Using the offline Dify emulator at", emu.base_url)
    """
)

CLEANUP = code(
    """
    if emu is not None:
        emu.stop()
    """
)

TABLE_HELPER = code(
    '''
    from IPython.display import Markdown


    def sources_table(rows):
        """rows: dicts with score, document_name, content -> a Markdown table."""
        lines = ["| # | score | document | passage |", "|--:|--:|---|---|"]
        for i, row in enumerate(rows, 1):
            score = row.get("score")
            passage = " ".join(str(row.get("content") or "").split())[:90].replace("|", "/")
            shown = f"{score:.3f}" if score is not None else "-"
            lines.append(f"| {i} | {shown} | {row.get('document_name')} | {passage} |")
        return Markdown("\\n".join(lines))
    '''
)


# --------------------------------------------------------------------------- 01

QUICKSTART: list[Cell] = [
    md(
        """
        # LangChain quickstart: a Dify app as a chat model

        `ChatDify` puts a Dify chat, chatflow or agent app behind LangChain's chat model
        interface: `invoke`, `stream`, async, metadata, and conversations that Dify
        remembers on the server. Runs top to bottom in a few seconds, offline.
        """
    ),
    SETUP_MD,
    SETUP,
    md(
        """
        ## 1. Invoke

        `ChatDify()` reads `DIFY_API_KEY`, `DIFY_BASE_URL` and `DIFY_USER` (the end-user
        id Dify scopes conversations by). `model` is only a label: the app's own
        settings choose the LLM.
        """
    ),
    code(
        """
        from langchain_dify import ChatDify

        llm = ChatDify(model="my-dify-app", user="notebook-user")
        msg = llm.invoke("What is Dify?")
        print(msg.content)
        """
    ),
    md(
        """
        ## 2. Metadata

        Every answer carries what Dify sent: the conversation and message ids, the
        cited passages (`retriever_resources`), Dify's usage with prices and latency,
        and LangChain's standard `usage_metadata`.
        """
    ),
    code(
        """
        meta = msg.response_metadata
        print("conversation:", meta["conversation_id"])
        print("message:     ", meta["message_id"])
        print("tokens:      ", msg.usage_metadata)
        print("price:       ", meta["usage"].get("total_price"), meta["usage"].get("currency"))
        print("cited:       ", [r["document_name"] for r in meta["retriever_resources"]])
        """
    ),
    md(
        """
        ## 3. Stream

        Tokens arrive as Dify produces them (`invoke` reads the same stream, which is
        why agent apps, which refuse blocking calls, just work).
        """
    ),
    code(
        """
        for chunk in llm.stream("Explain server-sent events in one sentence."):
            print(chunk.content, end="", flush=True)
        """
    ),
    md(
        """
        Leaving the loop early makes the transport call Dify's stop endpoint for that
        task (with the same `user`), so Dify stops generating and billing. The
        emulator records stop calls:
        """
    ),
    code(
        """
        for i, chunk in enumerate(llm.stream("Tell me about LlamaIndex.")):
            if i == 3:
                break
        if emu is not None:
            print(emu.stop_calls[-1])
        """
    ),
    md("## 4. Async\n\nThe same calls, awaited; `asyncio.gather` runs turns concurrently."),
    code(
        """
        msg = await llm.ainvoke("What is LangChain?")
        print(msg.content)

        async for chunk in llm.astream("Why is the sky blue?"):
            print(chunk.content, end="", flush=True)
        """
    ),
    code(
        """
        import asyncio

        questions = ["What is Dify?", "What is LangChain?", "What is LlamaIndex?"]
        answers = await asyncio.gather(*(llm.ainvoke(q) for q in questions))
        for answer in answers:
            print("-", answer.content[:90])
        """
    ),
    md(
        """
        ## 5. Conversations: Dify remembers

        Dify keeps each conversation on the server, per app, `user` and
        `conversation_id`. An `AIMessage` that came back from Dify carries its
        `conversation_id`; put it back in the message list and `ChatDify` continues
        that conversation, sending **only the new human turn** (Dify already has the rest).
        """
    ),
    code(
        """
        from langchain_core.messages import HumanMessage

        first = llm.invoke("My name is Ada.")
        messages = [HumanMessage("My name is Ada."), first, HumanMessage("What is my name?")]
        second = llm.invoke(messages)  # sends only "What is my name?"
        print(second.content)
        cid = first.response_metadata["conversation_id"]
        print("same conversation:", second.response_metadata["conversation_id"] == cid)
        """
    ),
    md(
        """
        Or name the conversation: per call (`conversation_id=`), per model
        (`ChatDify(conversation_id=...)`), or with `bind`.
        """
    ),
    code(
        """
        third = llm.invoke("And what did I ask before?", conversation_id=cid)
        pinned = llm.bind(conversation_id=cid)
        fourth = pinned.invoke("One more question.")
        print(third.response_metadata["conversation_id"] == cid)
        print(fourth.response_metadata["conversation_id"] == cid)
        """
    ),
    md(
        """
        ## 6. History with `RunnableWithMessageHistory`

        `DifyChatMessageHistory` is a *view* of a Dify conversation: it reads the turns
        from Dify, and `add_messages` only learns the id of a conversation Dify just
        started (Dify writes history itself). `factory(llm)` maps session ids to Dify
        conversations and reuses the model's key, URL and `user`.
        (`RunnableWithMessageHistory` is deprecated upstream in favour of LangGraph
        persistence, but still works.)
        """
    ),
    code(
        """
        import warnings

        from langchain_core.runnables.history import RunnableWithMessageHistory

        from langchain_dify import DifyChatMessageHistory

        warnings.filterwarnings("ignore", message="RunnableWithMessageHistory is deprecated")

        get_history = DifyChatMessageHistory.factory(llm)
        chat = RunnableWithMessageHistory(llm, get_history)
        config = {"configurable": {"session_id": "ada"}}
        print(chat.invoke("Hi, I'm Ada.", config=config).content)
        print(chat.invoke("What's my name?", config=config).content)
        """
    ),
    code(
        """
        history = get_history("ada")
        print("Dify conversation:", history.conversation_id)
        for message in history.messages:  # read back from Dify, oldest first
            print(f"{message.type:>5}: {message.content[:80]}")
        """
    ),
    md(
        """
        ## 7. Errors are typed

        Each error is both the transport's class (with `.status_code`, `.code`,
        `.partial_answer`) and langchain-core's `Model*Error`. The key never appears
        in the message.
        """
    ),
    code(
        """
        from langchain_dify import DifyAuthenticationError

        try:
            ChatDify(api_key="app-not-a-real-key").invoke("hello")
        except DifyAuthenticationError as exc:
            print(type(exc).__name__, exc.status_code, exc.code)
            print(exc)
        """
    ),
    md("## Clean up"),
    CLEANUP,
]


# --------------------------------------------------------------------------- 02

RAG: list[Cell] = [
    md(
        """
        # RAG with Dify: knowledge bases and citations in LCEL

        Two retrievers:

        * `DifyKnowledgeRetriever` searches a Dify knowledge base directly (Knowledge
          API, a `dataset-...` key, no LLM call).
        * `DifyRetriever` returns the passages a Dify **app** cites for a question
          (its `retriever_resources`; the app's own retrieval settings apply).

        With your own Dify, also set `DIFY_DATASET_API_KEY` and `DIFY_DATASET_ID`.
        """
    ),
    SETUP_MD,
    SETUP,
    md("A small helper to show sources as a table:"),
    TABLE_HELPER,
    code(
        """
        def docs_table(docs):
            return sources_table(
                [{"content": d.page_content, **d.metadata} for d in docs]
            )
        """
    ),
    md("## 1. Search the knowledge base: `DifyKnowledgeRetriever`"),
    code(
        """
        from langchain_dify import DifyKnowledgeRetriever

        knowledge = DifyKnowledgeRetriever(k=3)  # $DIFY_DATASET_API_KEY, $DIFY_DATASET_ID
        docs = knowledge.invoke("Why is the sky blue?")
        docs_table(docs)
        """
    ),
    md(
        """
        `search_method`, `score_threshold` and `reranking_enable` override the knowledge
        base's own settings for one retriever:
        """
    ),
    code(
        """
        keyword = DifyKnowledgeRetriever(k=2, search_method="keyword_search")
        docs_table(keyword.invoke("server-sent events"))
        """
    ),
    md(
        """
        ## 2. What an app cites: `DifyRetriever`

        One chat turn per query; the documents are the app's citations, best first,
        and each one's metadata also holds the app's `answer`.
        """
    ),
    code(
        """
        from langchain_dify import DifyRetriever

        cited = DifyRetriever(k=3)
        docs = cited.invoke("How does Dify stream text?")
        print("The app answered:", docs[0].metadata["answer"])
        docs_table(docs)
        """
    ),
    md(
        """
        ## 3. An LCEL chain: retrieve, prompt, answer

        The retriever feeds a prompt, and a Dify chat app writes the answer (the
        emulator's answers quote the best passage and echo the prompt; a real app
        answers properly).
        """
    ),
    code(
        """
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_core.runnables import RunnablePassthrough

        from langchain_dify import ChatDify


        def format_docs(docs):
            return "\\n\\n".join(f"[{d.metadata['document_name']}] {d.page_content}" for d in docs)


        prompt = ChatPromptTemplate.from_template(
            "Answer from the context.\\n\\nContext:\\n{context}\\n\\nQuestion: {question}"
        )
        llm = ChatDify(user="rag-notebook")

        chain = (
            {"context": knowledge | format_docs, "question": RunnablePassthrough()}
            | prompt
            | llm
            | StrOutputParser()
        )
        print(chain.invoke("Why is the sky blue?"))
        """
    ),
    md(
        """
        To show the sources next to the answer, keep the documents in the output:
        `RunnableParallel` retrieves once, `.assign` adds the answer. Streaming the
        chain streams the answer as it is written.
        """
    ),
    code(
        """
        from langchain_core.runnables import RunnableParallel

        answer = (
            RunnablePassthrough.assign(context=lambda x: format_docs(x["docs"]))
            | prompt
            | llm
            | StrOutputParser()
        )
        rag = RunnableParallel(docs=knowledge, question=RunnablePassthrough()).assign(answer=answer)

        result = {}
        for part in rag.stream("What is retrieval-augmented generation?"):
            if "answer" in part:
                print(part["answer"], end="", flush=True)
            result.update(part)
        print()
        docs_table(result["docs"])
        """
    ),
    md("## 4. Async\n\nEvery retriever and chain also runs async:"),
    code(
        """
        result = await rag.ainvoke("What does LangChain provide?")
        print(result["answer"][:200])
        docs_table(result["docs"])
        """
    ),
    md(
        """
        ## 5. Citations straight from the chat model

        If the app already does RAG, `ChatDify` answers carry the citations in
        `response_metadata["retriever_resources"]`, no retriever needed:
        """
    ),
    code(
        """
        msg = llm.invoke("What is LlamaIndex?")
        print(msg.content)
        sources_table(msg.response_metadata["retriever_resources"])
        """
    ),
    md("## Clean up"),
    CLEANUP,
]


# --------------------------------------------------------------------------- 03

LLAMAINDEX: list[Cell] = [
    md(
        """
        # LlamaIndex: chat engine, LLM, retrievers, chat store

        `DifyChatEngine` chats with a Dify app whose memory is the Dify conversation;
        `DifyLLM` is a Dify app as a LlamaIndex `LLM`; `DifyKnowledgeRetriever` and
        `DifyRetriever` return nodes; `DifyChatStore` reads a user's conversations.
        """
    ),
    SETUP_MD,
    SETUP,
    TABLE_HELPER,
    code(
        """
        def nodes_table(nodes):
            rows = [{**n.node.metadata, "score": n.score} for n in nodes]
            for row, n in zip(rows, nodes):
                row["content"] = n.node.get_content()
            return sources_table(rows)
        """
    ),
    md(
        """
        ## 1. `DifyChatEngine`, streamed

        Iterate `response_gen` for the text as it arrives. When the stream ends the
        response holds the cited passages as `source_nodes` and the ids and usage in
        `metadata`.
        """
    ),
    code(
        """
        from llama_index_dify import DifyChatEngine

        engine = DifyChatEngine.from_defaults(user="notebook-user")
        response = engine.stream_chat("What is LlamaIndex?")
        for delta in response.response_gen:
            print(delta, end="", flush=True)
        """
    ),
    code(
        """
        usage = response.metadata.get("usage") or {}
        print("conversation:", response.metadata["conversation_id"])
        print("tokens:", usage.get("total_tokens"))
        print("price: ", usage.get("total_price"), usage.get("currency"))
        nodes_table(response.source_nodes)
        """
    ),
    md(
        """
        The engine keeps the `conversation_id`, so the next turn continues the same Dify
        conversation; `chat_history` reads the turns back from Dify.
        """
    ),
    code(
        """
        follow_up = engine.chat("And who keeps the conversation?")
        print(follow_up.response)
        print("same conversation:", engine.conversation_id == response.metadata["conversation_id"])
        for message in engine.chat_history:
            print(f"{message.role.value:>9}: {message.content[:80]}")
        """
    ),
    md("Async streaming, then `reset()` to start a new conversation with the next turn:"),
    code(
        """
        aresponse = await engine.astream_chat("What is RAG?")
        async for delta in aresponse.async_response_gen():
            print(delta, end="", flush=True)
        print()
        engine.reset()  # reset(delete=True) also deletes the old conversation in Dify
        print("next conversation:", engine.conversation_id)
        """
    ),
    md(
        """
        ## 2. `DifyLLM`

        A reply carries its `conversation_id` in `additional_kwargs`; put it back in the
        message list and the next call continues that conversation.
        """
    ),
    code(
        """
        from llama_index.core.llms import ChatMessage

        from llama_index_dify import DifyLLM

        llm = DifyLLM(user="notebook-user")
        reply = llm.chat([ChatMessage(role="user", content="What is Dify?")])
        print(reply.message.content)
        print(reply.message.additional_kwargs["conversation_id"])
        """
    ),
    code(
        """
        for part in llm.stream_complete("Explain server-sent events."):
            print(part.delta, end="", flush=True)
        """
    ),
    md(
        """
        ## 3. `DifyLLM` in a query engine over a Dify knowledge base

        `DifyKnowledgeRetriever` finds the nodes; LlamaIndex builds its QA prompt and
        `DifyLLM` answers it (the emulator quotes the best passage and echoes the
        prompt; a real app answers properly).
        """
    ),
    code(
        """
        import textwrap

        from llama_index.core.query_engine import RetrieverQueryEngine

        from llama_index_dify import DifyKnowledgeRetriever

        retriever = DifyKnowledgeRetriever(similarity_top_k=3)  # $DIFY_DATASET_*
        query_engine = RetrieverQueryEngine.from_args(retriever, llm=llm)
        answer = query_engine.query("Why is the sky blue?")
        print(textwrap.shorten(str(answer), 300))
        nodes_table(answer.source_nodes)
        """
    ),
    md(
        """
        ## 4. `DifyRetriever`: the passages an app cites

        Asks the app (one turn) and returns its citations as nodes.
        """
    ),
    code(
        """
        from llama_index_dify import DifyRetriever

        cited = DifyRetriever(user="notebook-user", similarity_top_k=2, delete_conversation=True)
        nodes_table(cited.retrieve("How does Dify keep connections alive?"))
        """
    ),
    md(
        """
        ## 5. `DifyChatStore`: a user's conversations

        A read-and-delete view: keys are conversation ids, messages come from Dify
        (Dify writes history itself, so the store cannot append).
        """
    ),
    code(
        """
        from llama_index_dify import DifyChatStore

        store = DifyChatStore(user="notebook-user")
        keys = store.get_keys()
        print(len(keys), "conversations for notebook-user")
        for message in store.get_messages(response.metadata["conversation_id"]):
            print(f"{message.role.value:>9}: {message.content[:80]}")
        """
    ),
    md("## Clean up"),
    code(
        """
        engine.close()
        llm.close()
        if emu is not None:
            emu.stop()
        """
    ),
]


# --------------------------------------------------------------------------- 04

AGENTS: list[Cell] = [
    md(
        """
        # Agents, chatflows, completions and workflows

        Dify has five app modes. Chat, chatflow (advanced-chat) and agent apps are chat
        models (`ChatDify`, `DifyLLM`); completion and workflow apps are reached through
        the transport, `dify_transport.DifyClient`, which the adapters are built on.
        """
    ),
    md(
        """
        ## Setup

        This notebook needs one app of each mode. With your own Dify, set
        `DIFY_BASE_URL` and `DIFY_AGENT_API_KEY`, `DIFY_CHATFLOW_API_KEY`,
        `DIFY_COMPLETION_API_KEY`, `DIFY_WORKFLOW_API_KEY` (names used only by this
        notebook), and adapt the workflow `inputs` to your app's form. Otherwise the
        emulator serves all four.
        """
    ),
    code(
        """
        import os

        from dify_transport.emulator import start_emulator

        MODES = ["agent", "chatflow", "completion", "workflow"]
        KEYS = {mode: os.environ.get(f"DIFY_{mode.upper()}_API_KEY") for mode in MODES}
        emu = None
        if os.environ.get("DIFY_BASE_URL") and all(KEYS.values()):
            BASE_URL = os.environ["DIFY_BASE_URL"]
            print("Using your Dify at", BASE_URL)
        else:
            emu = start_emulator()  # stopped in the last cell
            BASE_URL = emu.base_url
            KEYS = {mode: getattr(emu.keys, mode) for mode in MODES}
            print("Using the offline Dify emulator at", BASE_URL)
        USER = os.environ.get("DIFY_USER") or "notebook-user"
        """
    ),
    md(
        """
        ## 1. Agent app: answer plus thoughts

        Agent apps refuse Dify's blocking mode; `ChatDify.invoke` reads the stream
        anyway, so it just works. The tool calls arrive as
        `response_metadata["agent_thoughts"]`.
        """
    ),
    code(
        """
        from langchain_dify import ChatDify

        agent = ChatDify(api_key=KEYS["agent"], base_url=BASE_URL, user=USER)
        msg = agent.invoke("What time is it?")
        print(msg.content)
        for t in msg.response_metadata.get("agent_thoughts", []):
            if t["tool"]:  # the last thought is the answer itself
                print(f"step {t['position']}: {t['tool']}({t['tool_input']}) -> {t['observation']}")
        """
    ),
    code(
        """
        for chunk in agent.stream("And what time is it now?"):
            print(chunk.content, end="", flush=True)
        """
    ),
    md(
        """
        With LlamaIndex, `DifyLLM` talks to the same agent; the thoughts are in the
        response's `additional_kwargs`:
        """
    ),
    code(
        """
        from llama_index.core.llms import ChatMessage

        from llama_index_dify import DifyLLM

        agent_llm = DifyLLM(api_key=KEYS["agent"], base_url=BASE_URL, user=USER)
        reply = agent_llm.chat([ChatMessage(role="user", content="What time is it?")])
        print(reply.message.content)
        print([t["tool"] for t in reply.additional_kwargs.get("agent_thoughts", []) if t["tool"]])
        agent_llm.close()
        """
    ),
    md(
        """
        ## 2. Chatflow (advanced-chat) app

        Same interface as a chat app: a conversation, streamed answers, metadata.
        """
    ),
    code(
        """
        from langchain_core.messages import HumanMessage

        chatflow = ChatDify(api_key=KEYS["chatflow"], base_url=BASE_URL, user=USER)
        first = chatflow.invoke("What can you do?")
        print(first.content)
        follow_up = [HumanMessage("What can you do?"), first, HumanMessage("Thanks!")]
        for chunk in chatflow.stream(follow_up):
            print(chunk.content, end="", flush=True)
        """
    ),
    md(
        """
        ## 3. Completion app (transport)

        Completion apps take `inputs` (here the `query` variable) and have no
        conversation. `completion()` returns a `Result`; `stream_completion()` a stream
        of events whose `.text` is the delta.
        """
    ),
    code(
        """
        from dify_transport import DifyClient

        completion_app = DifyClient(api_key=KEYS["completion"], base_url=BASE_URL)
        result = completion_app.completion(user=USER, inputs={"query": "Summarise SSE in a line."})
        print(result.answer)
        print(result.usage.total_tokens, "tokens", result.usage.total_price, result.usage.currency)

        with completion_app.stream_completion(user=USER, inputs={"query": "Say hello."}) as stream:
            for event in stream:
                print(event.text or "", end="", flush=True)
        """
    ),
    md(
        """
        ## 4. Workflow app (transport)

        `run_workflow()` returns the run's `outputs`; `stream_workflow()` shows the run
        node by node. A run that fails raises `WorkflowFailedError` even though Dify
        answered HTTP 200.
        """
    ),
    code(
        """
        workflow = DifyClient(api_key=KEYS["workflow"], base_url=BASE_URL)
        run = workflow.run_workflow(user=USER, inputs={"text": "hello workflow", "count": 2})
        print(run.status, run.outputs)
        print(workflow.get_workflow_run(run.workflow_run_id).elapsed_time, "s")
        """
    ),
    code(
        """
        with workflow.stream_workflow(user=USER, inputs={"text": "streamed"}) as stream:
            for event in stream:
                node = event.data.get("data") or {}
                if event.event in ("node_started", "node_finished"):
                    print(f"{event.event:<14} {node.get('title')}")
                elif event.text:
                    print(f"{'text_chunk':<14} {event.text!r}")
            final = stream.final()
        print("outputs:", final.outputs)
        """
    ),
    md("A workflow is easy to use as a LangChain runnable:"),
    code(
        """
        from langchain_core.runnables import RunnableLambda

        run_workflow = RunnableLambda(
            lambda text: workflow.run_workflow(user=USER, inputs={"text": text}).outputs
        )
        print(run_workflow.batch(["one", "two"]))
        """
    ),
    md(
        """
        ## 5. Stopping and failing mid-stream

        Leaving a stream early calls Dify's stop endpoint for the task (same `user`), so
        Dify stops generating. Errors that Dify sends *after* HTTP 200, as an `error`
        event, raise typed exceptions that keep the partial answer. (The emulator can
        inject such faults; this cell uses them only with the emulator.)
        """
    ),
    code(
        """
        from dify_transport import APIError

        with workflow.stream_workflow(user=USER, inputs={"text": "stop me early"}) as stream:
            for event in stream:
                if event.text:
                    break  # leaving the block stops the Dify task
        if emu is not None:
            print("stop calls:", emu.stop_calls[-1])

            chat_app = DifyClient(api_key=emu.keys.chat, base_url=BASE_URL)
            try:
                with chat_app.stream_chat(
                    "What is Dify?", user=USER, extra_headers={"X-Emulator-Fault": "error_after=3"}
                ) as stream:
                    for event in stream:
                        pass
            except APIError as exc:
                print(type(exc).__name__, exc.code, "in_stream:", exc.in_stream)
                print("partial answer:", repr(exc.partial_answer))
        """
    ),
    md("## Clean up"),
    code(
        """
        for client in (completion_app, workflow):
            client.close()
        if emu is not None:
            emu.stop()
        """
    ),
]


NOTEBOOKS: dict[str, list[Cell]] = {
    "01_langchain_quickstart.ipynb": QUICKSTART,
    "02_rag_with_dify.ipynb": RAG,
    "03_llamaindex.ipynb": LLAMAINDEX,
    "04_agents_and_workflows.ipynb": AGENTS,
}


def build(name: str, cells: list[Cell]) -> Any:
    """One notebook: stable cell ids, no outputs, a python3 kernel."""
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    stem = name.split("_", 1)[0]
    for index, (kind, source) in enumerate(cells):
        cell_id = f"nb{stem}-{index:02d}"
        cell = (
            new_code_cell(source, id=cell_id)
            if kind == "code"
            else new_markdown_cell(source, id=cell_id)
        )
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    return nbformat.writes(build(name, NOTEBOOKS[name])) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a notebook is stale")
    args = parser.parse_args(argv)
    stale = []
    for name in NOTEBOOKS:
        path = NOTEBOOKS_DIR / name
        text = render(name)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(NOTEBOOKS_DIR.parent)}")
    if stale:
        print(f"stale notebooks (run scripts/make_notebooks.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
