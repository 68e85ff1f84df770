"""``04_agents_and_workflows.ipynb``: agents, chatflows, completions, workflows."""

from __future__ import annotations

from notebook_cells._shared import PAUSE, Cell, code, md

__all__ = ["CELLS"]

CELLS: list[Cell] = [
    md(
        """
        # Agents, chatflows, completions and workflows

        Dify has five app modes. Chat, chatflow (advanced-chat) and agent apps are chat
        models (`ChatDify`, `DifyLLM`); completion apps are LLMs (`DifyCompletion`,
        `DifyCompletionLLM`) and workflow apps runnables and agent tools (`DifyWorkflow`,
        `DifyWorkflowTool`). Sections 3 and 4 show the transport underneath,
        `dify_transport.DifyClient`; sections 6 to 10 put the apps into agents and graphs.
        """
    ),
    md(
        """
        ## Setup

        This notebook needs one app of each mode. With your own Dify, set
        `DIFY_BASE_URL` and `DIFY_AGENT_API_KEY`, `DIFY_CHATFLOW_API_KEY`,
        `DIFY_COMPLETION_API_KEY`, `DIFY_WORKFLOW_API_KEY` (names used only by this
        notebook), and adapt the workflow `inputs` to your app's form; section 8 also
        needs `DIFY_REVIEW_WORKFLOW_API_KEY`, a workflow with a Human Input node.
        Otherwise the emulator serves them all.
        """
    ),
    code(
        """
        import os

        from dify_emulator import start_emulator

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
    PAUSE,
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
        pause()
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
            finally:
                chat_app.close()
        """
    ),
    md(
        """
        ## 6. An agent app's tool calls as tool runs

        Each tool call of a Dify agent app is reported to callbacks as a child tool run
        of the model's run (`on_tool_start` / `on_tool_end` with the tool's name, input
        and observation), so LangSmith and `astream_events` show the agent's tool use.
        """
    ),
    code(
        """
        from langchain_core.callbacks import BaseCallbackHandler


        class ShowTools(BaseCallbackHandler):
            def on_tool_start(self, serialized, input_str, **kwargs):
                print("tool start:", serialized["name"], input_str)

            def on_tool_end(self, output, **kwargs):
                print("tool end:  ", output)


        print(agent.invoke("What time is it?", config={"callbacks": [ShowTools()]}).content)
        """
    ),
    md(
        """
        ## 7. A Dify workflow as a tool for a LangChain agent

        `DifyWorkflow.as_tool()` reads the app's name, description and input form: the
        tool's argument schema has the required fields, selects as enums, numbers and
        max lengths, and bad arguments fail before anything is sent. A scripted model
        stands in for your tool-calling model (`create_agent("openai:gpt-4.1", [tool])`).
        """
    ),
    code(
        """
        from langchain.agents import create_agent
        from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
        from langchain_core.messages import AIMessage

        from langchain_dify import DifyWorkflow

        workflow_app = DifyWorkflow(api_key=KEYS["workflow"], base_url=BASE_URL, user=USER)
        tool = workflow_app.as_tool()
        print(tool.name, tool.args)


        class ScriptedModel(GenericFakeChatModel):
            def bind_tools(self, tools, **kwargs):
                return self


        args = {"text": "Why is the sky blue?", "style": "plain"}
        call = {"name": tool.name, "args": args, "id": "1"}
        model = ScriptedModel(messages=iter([AIMessage("", tool_calls=[call]), AIMessage("Done.")]))
        question = {"messages": [("user", "Why is the sky blue?")]}
        result = create_agent(model, [tool]).invoke(question)
        for message in result["messages"]:
            print(f"{message.type:>6}: {message.content or message.tool_calls}")
        """
    ),
    md(
        """
        ## 8. A LangGraph graph that pauses on a Dify human-input form

        Inside a LangGraph node, a Dify run that pauses for human input becomes the
        graph's `interrupt()`, carrying the form. `Command(resume=...)` answers it and
        continues the same Dify run: LangGraph replays the node, and the run's handle,
        kept in the checkpoint, stops it from starting a second run.
        """
    ),
    code(
        """
        from typing import TypedDict

        from langgraph.checkpoint.memory import InMemorySaver
        from langgraph.graph import START, StateGraph
        from langgraph.types import Command

        REVIEW_KEY = os.environ.get("DIFY_REVIEW_WORKFLOW_API_KEY") or (
            emu.keys.review_workflow if emu is not None else None
        )


        class Review(TypedDict, total=False):
            draft: str
            outputs: dict


        if REVIEW_KEY is None:
            print("Set DIFY_REVIEW_WORKFLOW_API_KEY to run this section on your Dify.")
        else:
            review = DifyWorkflow(api_key=REVIEW_KEY, base_url=BASE_URL, user=USER)

            def run_review(state: Review) -> Review:
                return {"outputs": review.invoke({"text": state["draft"]})}

            builder = StateGraph(Review)
            builder.add_node("review", run_review)
            builder.add_edge(START, "review")
            graph = builder.compile(checkpointer=InMemorySaver())
            thread = {"configurable": {"thread_id": "review-1"}}

            paused = graph.invoke({"draft": "What is Dify?"}, thread)
            (interrupt,) = paused["__interrupt__"]
            (form,) = interrupt.value["forms"].values()
            print(form["content"])
            print("actions:", [a["id"] for a in form["actions"]])
            answer = {"action": "approve", "inputs": {"comment": "Good.", "priority": "high"}}
            done = graph.invoke(Command(resume=answer), thread)
            print(done["outputs"])
        """
    ),
    md(
        """
        ## 9. A LlamaIndex FunctionAgent with a Dify workflow tool

        `DifyWorkflowTool.from_app` builds a `FunctionTool` from the app the same way.
        A scripted `MockFunctionCallingLLM` stands in for your function-calling LLM.
        """
    ),
    code(
        """
        from llama_index.core.agent.workflow import FunctionAgent
        from llama_index.core.base.llms.types import ToolCallBlock
        from llama_index.core.llms import MessageRole
        from llama_index.core.llms.mock import MockFunctionCallingLLM

        from llama_index_dify import DifyWorkflowTool

        workflow_tool = DifyWorkflowTool.from_app(
            api_key=KEYS["workflow"], base_url=BASE_URL, user=USER
        )


        def script(messages, **kwargs):
            if messages[-1].role == MessageRole.TOOL:
                said = messages[-1].content
                return ChatMessage(role="assistant", content=f"The workflow says: {said}")
            name = workflow_tool.metadata.name
            ask = ToolCallBlock(tool_name=name, tool_kwargs={"text": "Why is the sky blue?"})
            return ChatMessage(role="assistant", blocks=[ask])


        function_agent = FunctionAgent(
            tools=[workflow_tool], llm=MockFunctionCallingLLM(response_generator=script)
        )
        print(await function_agent.run("Why is the sky blue?"))
        """
    ),
    md(
        """
        ## 10. A completion app in an LCEL chain

        `DifyCompletion` is a LangChain LLM: the prompt goes to the app's `query` input.
        """
    ),
    code(
        """
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import PromptTemplate

        from langchain_dify import DifyCompletion

        completion_llm = DifyCompletion(api_key=KEYS["completion"], base_url=BASE_URL, user=USER)
        prompt = PromptTemplate.from_template("Explain {topic} in one sentence.")
        chain = prompt | completion_llm | StrOutputParser()
        print(chain.invoke({"topic": "server-sent events"}))
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
