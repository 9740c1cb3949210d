"""LlamaIndex, the peer `litopys bench` compares us with: the same corpus and embedder through
LlamaIndex's FAISS vector store and its BM25 retriever.

Needs the optional extra ``bench`` (llama-index-core, llama-index-vector-stores-faiss,
llama-index-retrievers-bm25).
LlamaIndex's HuggingFace embedding cannot load the bundled USE-m3 (a custom
sentence-transformers module, offline), so our embedder is wrapped as a
LlamaIndex ``BaseEmbedding``: both sides spend the same model time per text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from litopys.core.measure import times_ms
from litopys.index.embedder import SentenceEmbedder


def available() -> str | None:
    """None when LlamaIndex is importable, else why not."""
    from importlib.util import find_spec

    for module in ("llama_index.core", "llama_index.vector_stores.faiss", "llama_index.retrievers.bm25"):
        try:
            found = find_spec(module) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if not found:
            return f"LlamaIndex is not installed ({module}); pip install -e '.[bench]'"
    return None


@dataclass(frozen=True)
class LlamaIndexRun:
    """LlamaIndex's build seconds and per-query retrieval latencies (ms)."""

    nodes: int  # LlamaIndex nodes (its chunks)
    build_s: float  # read, split, embed, persist FAISS, and build LlamaIndex's BM25 retriever
    query_ms: list[float]  # LlamaIndex hybrid: BM25 + dense, fused (what our search does)
    dense_query_ms: list[float]  # LlamaIndex dense top-k only


def _wrap(embedder: SentenceEmbedder):
    """Our embedder as a LlamaIndex ``BaseEmbedding``."""
    from llama_index.core.base.embeddings.base import BaseEmbedding

    class LitopysEmbedding(BaseEmbedding):
        """Our sentence embedder behind LlamaIndex's embedding interface."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.encode_query(query).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.encode_passages([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.encode_passages(texts).tolist()

    return LitopysEmbedding(model_name=embedder.spec, embed_batch_size=embedder.batch_size)


def llamaindex_run(
    embedder,
    corpus: Path,
    persist_dir: Path,
    queries: Sequence[str],
    chunk_tokens: int,
    overlap_tokens: int,
    top_k: int,
) -> LlamaIndexRun:
    """Read, split, embed and persist ``corpus`` the LlamaIndex way, then time top-k retrieval."""
    import faiss
    from llama_index.core import Settings, SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
    from llama_index.retrievers.bm25 import BM25Retriever
    from llama_index.vector_stores.faiss import FaissVectorStore

    Settings.llm = MockLLM()  # retrieval only: no LLM is called, none must be loaded
    # Plain .txt/.md need no extra readers; without this, one warning per file about llama-index-readers-file.
    logging.getLogger("llama_index.core.readers.file.base").setLevel(logging.ERROR)
    embed_model = _wrap(embedder)
    started = time.perf_counter()
    documents = SimpleDirectoryReader(str(corpus), recursive=True, required_exts=[".txt", ".md"]).load_data()
    # Chunk sizes in the embedder's tokens, like ours (the default tiktoken counts English BPE tokens).
    splitter = SentenceSplitter(
        chunk_size=chunk_tokens, chunk_overlap=overlap_tokens, tokenizer=lambda text: [0] * embedder.count_tokens(text)
    )
    store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(embedder.dim))
    context = StorageContext.from_defaults(vector_store=store)
    index = VectorStoreIndex.from_documents(
        documents, storage_context=context, embed_model=embed_model, transformations=[splitter]
    )
    index.storage_context.persist(persist_dir=str(persist_dir))
    # LlamaIndex's own hybrid: its BM25 retriever (bm25s) fused with the vector retriever,
    # no LLM query generation (num_queries=1): the same work as our search.
    bm25 = BM25Retriever.from_defaults(docstore=index.docstore, similarity_top_k=top_k)
    build_s = time.perf_counter() - started
    dense = index.as_retriever(similarity_top_k=top_k)
    hybrid = QueryFusionRetriever(
        [dense, bm25], similarity_top_k=top_k, num_queries=1, mode=FUSION_MODES.RELATIVE_SCORE, use_async=False
    )
    # Warmed up as ours is, before timing.
    return LlamaIndexRun(
        len(index.docstore.docs),
        build_s,
        times_ms(hybrid.retrieve, queries, warmup=3),
        times_ms(dense.retrieve, queries, warmup=3),
    )
