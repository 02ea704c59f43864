"""Benchmarks for Sayline, kept outside ``app`` so the shipped engine never imports them.

``python -m bench.stream`` replays the shared eval clips in real time and measures what a
caption reader feels: accuracy, how soon text shows, how soon it stops changing, and cost.
"""
