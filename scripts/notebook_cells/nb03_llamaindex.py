"""``03_llamaindex.ipynb``: chat engine, LLM, retrievers and chat store."""

from __future__ import annotations

from notebook_cells._shared import PAUSE, SETUP, SETUP_MD, Cell, code, md

__all__ = ["CELLS"]

CELLS: list[Cell] = [
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
    PAUSE,
    md(
        """
        `display_sources` shows passages as a table (document, score, snippet): give it
        `NodeWithScore`s, a response with `source_nodes`, or a `DifyLLM` reply. Jupyter
        renders it as HTML when it is the cell's last line.
        """
    ),
    code("from llama_index_dify import display_sources"),
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
        display_sources(response)  # its source_nodes
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
        pause()
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
        display_sources(answer.source_nodes)
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
        display_sources(cited.retrieve("How does Dify keep connections alive?"))
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
