"""Bridges to other tools: the VOT toolkit (TraX), the GOT-10k toolkit, shared loading helpers.

Nothing here is imported by the core library; each bridge imports its optional dependency itself
(``pip install -e .[vot]`` for TraX, ``.[got10k]`` for the GOT-10k toolkit).
"""
