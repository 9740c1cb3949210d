"""Retrieval, prompting and answering: question -> passages -> prompt -> LLM -> cited answer."""
