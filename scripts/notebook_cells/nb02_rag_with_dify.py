"""``02_rag_with_dify.ipynb``: knowledge bases, retrievers and citations in LCEL."""

from __future__ import annotations

from notebook_cells._shared import CLEANUP, SETUP, SETUP_MD, Cell, code, md

__all__ = ["CELLS"]

CELLS: list[Cell] = [
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
    md(
        """
        `display_sources` shows passages as a table (document, score, snippet): give it a
        retriever's `Document`s or a `ChatDify` answer. It returns a small object that
        Jupyter renders as HTML when it is the cell's last line.
        """
    ),
    code(
        """
        from langchain_dify import display_sources
        """
    ),
    md("## 1. Search the knowledge base: `DifyKnowledgeRetriever`"),
    code(
        """
        from langchain_dify import DifyKnowledgeRetriever

        knowledge = DifyKnowledgeRetriever(k=3)  # $DIFY_DATASET_API_KEY, $DIFY_DATASET_ID
        docs = knowledge.invoke("Why is the sky blue?")
        display_sources(docs)
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
        display_sources(keyword.invoke("server-sent events"))
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
        display_sources(docs)
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
        display_sources(result["docs"])
        """
    ),
    md("## 4. Async\n\nEvery retriever and chain also runs async:"),
    code(
        """
        result = await rag.ainvoke("What does LangChain provide?")
        print(result["answer"][:200])
        display_sources(result["docs"])
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
        display_sources(msg)  # the answer's response_metadata["retriever_resources"]
        """
    ),
    md("## Clean up"),
    CLEANUP,
]
