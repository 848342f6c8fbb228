"""The local inference engine: a GGUF model run by llama.cpp, yielding typed events.

gpt-oss models get a harmony prompt built as token ids and a harmony parser on
the output; any other GGUF runs through the chat template stored in it (answer
only). The engine knows nothing of Qt: callers iterate `generate` on whatever
thread they like and cancel it from any other through a CancelFlag.
"""

from __future__ import annotations

import codecs
import os
import random
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path

import llama_cpp
from llama_cpp.llama_grammar import LlamaGrammar

from ..cancel import CancelFlag
from ..context_window import Window, fit_window, reply_reserve
from ..engine import ChatRequest, ModelInfo, ModelLoadError
from ..events import AnswerDelta, ContextTrimmed, Done, EngineEvent, Failed, ParserEvent, Stats
from ..harmony import Conversation, HarmonyStreamParser, Message, Special, Text, message_segments, render_segments
from ..harmony import tokens as harmony_tokens
from ..prompt_record import describe_prompt, left_out_summary
from ..sampling import model_sampling
from .adapters import ModelAdapters
from .gguf_file import read_gguf
from .header_checks import check_header
from .llama_log import route_llama_logs
from .lora_file import AdapterError, LoraFile
from .machine import Machine, read_machine
from .memory_plan import ENGINE_FLASH_ATTN, ModelShape, engine_plan
from .model_name import readable_model_name
from .reply_rules import ReplyRules
from .stop_text import StopText
from .template_prompt import TemplatePrompt
from .vocabulary import Vocabulary

#: Texts whose tokens are remembered; a chat re-renders every message of its history each turn.
TEXT_MEMO_ENTRIES = 4096


class _MemoVocabulary(Vocabulary):
    """A vocabulary that remembers the tokens of the texts it has seen.

    llama.cpp takes about 2 ms per tokenize call whatever the length (the gpt-4o pre-tokenizer
    is set up afresh each call), and a prompt is rendered message by message: without this, a
    long chat spent most of a second per turn tokenizing text it had tokenized before, and
    fitting it to the context (which counts every exchange) several times that.
    """

    def __init__(self, llama: llama_cpp.Llama) -> None:
        super().__init__(llama)
        self._memo: dict[str, tuple[int, ...]] = {}

    def tokenize_plain(self, text: str) -> list[int]:
        ids = self._memo.get(text)
        if ids is None:
            if len(self._memo) >= TEXT_MEMO_ENTRIES:
                self._memo.clear()
            ids = self._memo[text] = tuple(super().tokenize_plain(text))
        return list(ids)


def default_threads() -> tuple[int, int]:
    """Threads for (decoding, prompt processing).

    Decode scales with physical cores, not hyper-threads, and llama.cpp's threads
    meet at a barrier after every graph node: one thread that is not scheduled
    stalls them all. So one core is left to the GUI and the rest of the laptop.
    """
    logical = os.cpu_count() or 2
    physical = logical if logical <= 4 else logical // 2
    return max(1, min(physical, logical - 1)), max(1, logical - 1)


def _open_llama(path: Path, context_size: int, threads: tuple[int, int], gpu_layers: int) -> llama_cpp.Llama:
    """Load model and context, turning llama.cpp's failures into a message for people."""
    try:
        return llama_cpp.Llama(
            model_path=str(path),
            n_ctx=context_size,
            n_threads=threads[0],
            n_threads_batch=threads[1],
            n_gpu_layers=gpu_layers,
            # On the CPU llama.cpp repacks the experts into a faster layout (use_extra_bufts, 45 % faster
            # decode for gpt-oss-20b here): from a mapped file the whole file stays resident beside the
            # 9.7 GiB copy (22 GB in all); read instead, the process holds the weights once (12 GB).
            # Metal maps the file itself and repacks nothing, so it keeps the map.
            use_mmap=gpu_layers != 0,
            swa_full=True,  # generate() reuses cached prefixes; a trimmed SWA cache silently loses them
            flash_attn=ENGINE_FLASH_ATTN,  # logits agree to 1e-3 with it off, on the tiny gpt-oss
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(
            f"llama.cpp could not load {path.name}: the file is damaged, truncated, "
            "or of a model type this version does not support."
        ) from exc


class LocalEngine:
    """Owns one llama.cpp model and context. Not thread-safe: one caller at a time."""

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        context_size: int | None = None,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        machine: Machine | None = None,
        adapter_bytes: int = 0,
    ) -> None:
        """Check, plan and load. `context_size` and `n_gpu_layers` override the memory plan.

        `adapter_bytes`: room to plan for LoRA adapters that requests will name (see `ModelAdapters`).
        """
        path = Path(model_path).expanduser()
        # Read the header first: a truncated download or a model that cannot fit in memory is
        # refused with a reason, before llama.cpp is asked to map 12 GB.
        self._closed = False
        info = read_gguf(path)
        check_header(info)  # values llama.cpp would abort on
        plan = engine_plan(ModelShape.from_gguf(info), machine or read_machine(), context_size, adapter_bytes)
        if not plan.fits or plan.context_size is None:
            raise ModelLoadError(f"{path.name} {plan.message}")
        route_llama_logs()
        threads = (n_threads, n_threads) if n_threads else default_threads()
        gpu_layers = plan.n_gpu_layers if n_gpu_layers is None else n_gpu_layers
        self._llama = _open_llama(path, context_size or plan.context_size, threads, gpu_layers)
        self.plan = plan
        #: The LoRA adapters of this model; each request's set is applied before it runs.
        self.adapters = ModelAdapters(self._llama, info, plan, read_machine if machine is None else lambda: machine)
        self.vocabulary: Vocabulary = _MemoVocabulary(self._llama)
        metadata = self._llama.metadata
        architecture = metadata.get("general.architecture", "unknown")
        required = (harmony_tokens.START, harmony_tokens.MESSAGE, harmony_tokens.END, harmony_tokens.RETURN)
        is_harmony = architecture == "gpt-oss" and all(t in self.vocabulary.special_ids for t in required)
        self.info = ModelInfo(
            path=path,
            name=readable_model_name(metadata, path),
            architecture=architecture,
            is_harmony=is_harmony,
            context_size=self._llama.n_ctx(),
            plan_message=plan.message,
            sampling=model_sampling(metadata, is_harmony),
        )
        self._template = None if is_harmony else TemplatePrompt(self._llama, metadata)
        #: The last run's prompt and tokens when it ended on <|call|> (for continue_after_call), else None.
        self._after_call: list[int] | None = None
        self._stop_ids = {
            self.vocabulary.special_ids[t] for t in harmony_tokens.STOP_TOKENS if t in self.vocabulary.special_ids
        }

    def _abort_decodes_on(self, cancel: CancelFlag | None) -> None:
        """Let llama.cpp abort a decode (a long prefill) once `cancel` is set; None turns it off.

        A generation left unfinished is cleaned up whenever its generator is collected, which can be
        after close() freed the context: there is nothing to turn off then (the freed pointer must not
        be touched)."""
        if self._closed:
            return
        if cancel is None:
            llama_cpp.llama_set_abort_callback(self._llama.ctx, llama_cpp.ggml_abort_callback(), None)
        else:
            callback = llama_cpp.ggml_abort_callback(CancelFlag.c_function_address())
            llama_cpp.llama_set_abort_callback(self._llama.ctx, callback, cancel.c_pointer)

    def prompt_ids(self, conversation: Conversation) -> list[int]:
        """The exact token ids the model gets for `conversation`."""
        if self._template is not None:
            return self._template.ids(conversation)
        return self.vocabulary.encode(render_segments(conversation))

    def count_prompt_tokens(self, conversation: Conversation) -> int:
        """Tokens of the exact prompt for `conversation` (the ChatEngine protocol)."""
        return len(self.prompt_ids(conversation))

    def count_text_tokens(self, text: str) -> int:
        """Tokens of `text` as plain text (the ChatEngine protocol)."""
        return len(self.vocabulary.tokenize_plain(text))

    def grammar_is_valid(self, grammar: str) -> bool:
        """True if llama.cpp can parse the GBNF `grammar` (with a `root` rule) for this vocabulary."""
        vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
        if not sampler:
            return False
        llama_cpp.llama_sampler_free(sampler)
        return True

    def generate(self, request: ChatRequest, cancel: CancelFlag | None = None) -> Iterator[EngineEvent]:
        """Answer the last user message; stops within one token (or one graph node) of `cancel` being set.

        A conversation longer than the context loses its oldest exchanges (ContextTrimmed comes first).
        """
        cancel = cancel or CancelFlag()
        if request.answer_grammar is not None and not self.grammar_is_valid(request.answer_grammar):
            yield Failed("The answer's grammar is not valid GBNF (llama.cpp could not parse it).")
            return
        problem = self._use_adapters(request)
        if problem is not None:
            yield Failed(problem)
            return
        try:
            window, prompt = self._fit(request)
        except ValueError as exc:
            yield Failed(str(exc))
            return
        n_ctx = self.info.context_size
        if len(prompt) >= n_ctx:
            with_instructions = " with the instructions" if request.conversation.instructions else ""
            yield Failed(
                f"The message needs {len(prompt)} tokens{with_instructions}, but the context holds {n_ctx}. "
                "Shorten it, or load the model with a larger context."
            )
            return
        if window.dropped:
            yield ContextTrimmed(window.dropped, len(window.conversation.messages))
        left_out = [left_out_summary(m.role, m.content) for m in request.conversation.messages[: window.dropped]]
        yield describe_prompt(prompt, self.vocabulary, n_ctx, left_out)
        yield from _Run(self, prompt, request, cancel).events()

    def continue_after_call(
        self, results: Sequence[Message], request: ChatRequest, cancel: CancelFlag | None = None
    ) -> Iterator[EngineEvent]:
        """After a run that ended on ``<|call|>``: the tools' answers, then the model again.

        The prompt is the last run's own tokens (its prompt and everything the model wrote, call
        included) followed by the answers, so llama.cpp reuses the whole cache and evaluates only
        the answers: a re-rendered call could tokenize differently and cost a re-read. `request` is
        the turn's (its sampling and declared tools).
        """
        cancel = cancel or CancelFlag()
        written, self._after_call = self._after_call, None
        if written is None:
            yield Failed("There is no tool call to answer: the last reply did not end with one.")
            return
        problem = self._use_adapters(request)
        if problem is not None:
            yield Failed(problem)
            return
        segments = [segment for result in results for segment in message_segments(result)]
        prompt = written + self.vocabulary.encode([*segments, Special(harmony_tokens.START), Text("assistant")])
        n_ctx = self.info.context_size
        if len(prompt) + reply_reserve(n_ctx, request.sampling.max_tokens) > n_ctx:
            yield Failed(
                f"The tool's answer does not fit in the context ({len(prompt):,} of {n_ctx:,} tokens with room "
                "for the reply). Load the model with a larger context, or ask for less output."
            )
            return
        yield from _Run(self, prompt, request, cancel).events()

    def open_adapter(self, path: str | os.PathLike[str]) -> LoraFile:
        """Check a LoRA adapter against this model and load it, so requests can name it (AdapterError if not)."""
        return self.adapters.open(Path(path))

    def check_adapter(self, path: str | os.PathLike[str]) -> LoraFile:
        """What open_adapter checks (the header against this model, the memory left), without loading it."""
        return self.adapters.check(Path(path))

    def _use_adapters(self, request: ChatRequest) -> str | None:
        """Apply the request's adapters; why not, if they cannot be.

        A changed set drops the cached prompt: what llama.cpp computed under the old set is never reused.
        """
        try:
            if self.adapters.apply(request.adapters):
                self._llama.reset()  # type: ignore[no-untyped-call]
        except AdapterError as exc:
            self._llama.reset()  # type: ignore[no-untyped-call]
            return str(exc)
        return None

    def _fit(self, request: ChatRequest) -> tuple[Window, list[int]]:
        """The part of the conversation that fits with room for the reply, and its prompt ids."""
        rendered: dict[Conversation, list[int]] = {}

        def count(conversation: Conversation) -> int:
            ids = rendered[conversation] = self.prompt_ids(conversation)
            return len(ids)

        n_ctx = self.info.context_size
        window = fit_window(request.conversation, count, n_ctx, reply_reserve(n_ctx, request.sampling.max_tokens))
        return window, rendered[window.conversation]

    def close(self) -> None:
        """Free the model and context now rather than at garbage collection."""
        llama = getattr(self, "_llama", None)
        adapters = getattr(self, "adapters", None)
        if adapters is not None and not self._closed:
            adapters.close()  # before the model they belong to
        self._closed = True
        if llama is not None:
            llama.close()


class _Run:
    """One generation: the sampling loop, the parser and the bookkeeping for stats."""

    def __init__(self, engine: LocalEngine, prompt: list[int], request: ChatRequest, cancel: CancelFlag):
        self.engine = engine
        self.prompt = prompt
        self.sampling = request.sampling
        self.cancel = cancel
        self.tools = request.conversation.tool_recipients()
        self.parser = HarmonyStreamParser(self.tools) if engine.info.is_harmony else None
        self.stop_text = StopText(request.stop)
        self.rules = ReplyRules(request, engine.vocabulary)
        self.grammar = self.rules.without_harmony() if self.parser is None else None
        self.in_call = False  # a call bound by the request is being written: its end of generation is <|call|>
        self.generated: list[int] = []
        # Other models' text is decoded here: a character split across tokens waits for its last byte.
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.message_start = 0  # where in `generated` the message being written began
        self.completion = 0
        self.reasoning_tokens = 0
        self.first_token_at: float | None = None
        self.answer_at: float | None = None

    def events(self) -> Iterator[EngineEvent]:
        engine, llama = self.engine, self.engine._llama
        llama.set_seed(self.sampling.seed if self.sampling.seed is not None else random.randrange(2**31))
        llama_cpp.llama_perf_context_reset(llama.ctx)
        context_left = engine.info.context_size - len(self.prompt)
        max_tokens = min(self.sampling.max_tokens or context_left, context_left)
        stop_reason = "length"
        start = time.perf_counter()
        engine._abort_decodes_on(self.cancel)
        tokens = self._tokens()
        try:
            while True:
                restart = False
                for token in tokens:
                    if self.first_token_at is None:
                        self.first_token_at = time.perf_counter()
                    if self.cancel.is_set():
                        stop_reason = "cancelled"
                        break
                    self.completion += 1
                    self.generated.append(token)
                    events, stop = self._consume(token)
                    yield from self._stop_at_stop_text(events)
                    if self.stop_text.stopped:
                        stop = "stop"
                    if stop is not None:
                        stop_reason = stop
                        break
                    if self.completion >= max_tokens:
                        break
                    restart = self._message_opened(token)
                    if restart:
                        break
                if not restart:
                    break
                # A rule binds the message just opened: go on from its <|message|> under the rule
                # (llama.cpp reuses the cache for everything before it).
                tokens.close()
                tokens = self._tokens()
        except RuntimeError as exc:
            # An aborted or failed decode leaves the cache in an unknown state.
            llama.reset()  # type: ignore[no-untyped-call]
            if not self.cancel.is_set():
                yield Failed(f"llama.cpp stopped with an error: {exc}")
                return
            stop_reason = "cancelled"
        finally:
            tokens.close()
            engine._abort_decodes_on(None)
        if self.parser is not None:
            yield from self._stop_at_stop_text(self.parser.finish())
        elif rest := self.decoder.decode(b"", final=True):
            yield from self._stop_at_stop_text([AnswerDelta(rest)])
        held = self.stop_text.flush()
        if held:
            yield AnswerDelta(held)
        engine._after_call = self.prompt + self.generated if stop_reason == "call" else None
        yield Done(stop_reason, self._stats(start, time.perf_counter()))

    def _tokens(self) -> Generator[int, Sequence[int] | None, None]:
        """llama.cpp's token generator from the prompt and what was generated so far, under `grammar` if set."""
        grammar = LlamaGrammar.from_string(self.grammar) if self.grammar is not None else None
        return self.engine._llama.generate(
            self.prompt + self.generated,
            top_k=self.sampling.top_k,
            top_p=self.sampling.top_p,
            min_p=self.sampling.min_p,
            temp=self.sampling.temperature,
            repeat_penalty=self.sampling.repeat_penalty,
            grammar=grammar,
        )

    def _message_opened(self, token: int) -> bool:
        """After `token`: True when it opened a message that a rule of the request binds (go on anew)."""
        names = self.engine.vocabulary.special_names
        if names.get(token) == harmony_tokens.END:
            self.message_start = len(self.generated)
        if self.parser is None or names.get(token) != harmony_tokens.MESSAGE:
            return False
        opened = self.rules.opened(self.parser)
        if opened is None:
            return False
        self.grammar, self.in_call = opened.grammar, opened.is_call
        if opened.header is not None:
            # A forced call: the model's own header (no text was shown for it) gives way to the call's.
            del self.generated[self.message_start :]
            self.generated += opened.header
            self.parser = HarmonyStreamParser(self.tools)
            for kept in self.generated:
                self._feed(kept)
        return True

    def _stop_at_stop_text(self, events: Iterable[EngineEvent]) -> Iterator[EngineEvent]:
        """Answer text up to the first stop string; other events as they come, after any held answer text."""
        for event in events:
            if isinstance(event, AnswerDelta):
                text = self.stop_text.feed(event.text)
                if text:
                    yield AnswerDelta(text)
                continue
            if self.stop_text.stopped:
                continue
            held = self.stop_text.flush()
            if held:
                yield AnswerDelta(held)
            yield event

    def _consume(self, token: int) -> tuple[list[EngineEvent], str | None]:
        """Events for one sampled token, and the stop reason if it ends the reply."""
        vocabulary = self.engine.vocabulary
        if self.parser is None:
            if vocabulary.is_end_of_generation(token):
                return [], "eos"
            text = self.decoder.decode(vocabulary.piece(token))
            return ([AnswerDelta(text)] if text else []), None
        stop = None
        if self.in_call and self.parser.recipient is not None and vocabulary.is_end_of_generation(token):
            token = vocabulary.special_ids[harmony_tokens.CALL]  # a bound call ends when its arguments do
        if token in self.engine._stop_ids:
            stop = "return" if vocabulary.special_names[token] == harmony_tokens.RETURN else "call"
        if self.parser.channel == "analysis":
            self.reasoning_tokens += 1
        events: list[EngineEvent] = list(self._feed(token))
        if self.answer_at is None and any(isinstance(e, AnswerDelta) for e in events):
            self.answer_at = time.perf_counter()
        return events, stop

    def _feed(self, token: int) -> list[ParserEvent]:
        """The parser's events for one token."""
        assert self.parser is not None
        vocabulary = self.engine.vocabulary
        if vocabulary.is_special(token):
            return self.parser.feed_special(vocabulary.special_names[token])
        return self.parser.feed_text(vocabulary.piece(token))

    def _stats(self, start: float, end: float) -> Stats:
        perf = llama_cpp.llama_perf_context(self.engine._llama.ctx)
        # Every sampled token but the last was decoded too; the rest of the decodes were the prompt.
        evaluated = perf.n_p_eval + perf.n_eval - max(self.completion - 1, 0)
        first = self.first_token_at if self.first_token_at is not None else end
        return Stats(
            prompt_tokens=len(self.prompt),
            prompt_tokens_evaluated=max(evaluated, 0),
            completion_tokens=self.completion,
            reasoning_tokens=self.reasoning_tokens,
            prefill_seconds=first - start,
            generation_seconds=end - first,
            reasoning_seconds=((self.answer_at or end) - first) if self.reasoning_tokens else 0.0,
            context_size=self.engine.info.context_size,
        )
