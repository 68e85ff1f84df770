"""``01_langchain_quickstart.ipynb``: ChatDify as a LangChain chat model."""

from __future__ import annotations

from notebook_cells._shared import CLEANUP, PAUSE, SETUP, SETUP_MD, Cell, code, md

__all__ = ["CELLS"]

CELLS: list[Cell] = [
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
    PAUSE,
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
        `display_sources` shows the cited passages as a table (document, score, snippet);
        Jupyter renders it when it is the cell's last line:
        """
    ),
    code(
        """
        from langchain_dify import display_sources

        display_sources(msg)
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
        pause()
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
        pause()
        third = llm.invoke("And what did I ask before?", conversation_id=cid)
        pinned = llm.bind(conversation_id=cid)
        pause()
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
        pause()
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
    md(
        """
        ## 8. Under the hood: `dify_transport` results display themselves

        `ChatDify` runs on `dify_transport`. Its `Result` (a blocking call, or a stream's
        `final()`) renders in a notebook as the answer, the cited passages, the usage and
        the price:
        """
    ),
    code(
        """
        from dify_transport import DifyClient

        client = DifyClient()  # $DIFY_API_KEY, $DIFY_BASE_URL
        result = client.stream_chat("Why is the sky blue?", user="notebook-user").final()
        result
        """
    ),
    md(
        """
        A workflow run's `Result` adds a timeline of its nodes (status and duration).
        The emulator's workflow app takes a `text` input; with your own Dify, use your
        workflow app's key and inputs.
        """
    ),
    code(
        """
        from IPython.display import display

        if emu is not None:
            with DifyClient(api_key=emu.keys.workflow) as workflow:
                run = workflow.stream_workflow(user="notebook-user", inputs={"text": "sky"})
                display(run.final())
        client.close()
        """
    ),
    md("## Clean up"),
    CLEANUP,
]
