"""The diarization bench's tables: markdown for the closing note, from the results dict."""

from __future__ import annotations

from typing import Any


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _der_cell(part: dict[str, Any]) -> str:
    return (
        f"{_pct(part['der'])} ({_pct(part['missed'])} / {_pct(part['false_alarm'])} / "
        f"{_pct(part['confusion'])})"
    )


def _delays(d: dict[str, Any]) -> str:
    return f"{_num(d['median'])} / {_num(d['p90'])} / {_num(d['max'])}"


def _with_baseline(value: float | None, baseline: float | None, digits: int) -> str:
    return _num(value, digits) + ("" if baseline is None else f" ({_num(baseline, digits)})")


def print_diarization_only(summary: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    print("\n### Diarization only (DER: total (missed / false alarm / confusion), 0.25 s collar)\n")
    print(
        "| clip | audio s | ref spk | streaming DER | spk err | offline DER | spk err | "
        "stream RTF cpu / wall |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        s, o = r["streaming"], r["offline"]
        print(
            f"| {r['clip']} | {r['duration_s']:.1f} | {r['ref_speakers']} | {_der_cell(s)} | "
            f"{s['speaker_count_error']:+d} | {_der_cell(o)} | {o['speaker_count_error']:+d} | "
            f"{_num(s['rtf_cpu'], 3)} / {_num(s['rtf_wall'], 3)} |"
        )
    s, o = summary["streaming"], summary["offline"]
    print(
        f"| **all (speech-weighted)** | {sum(r['duration_s'] for r in rows):.1f} | | {_der_cell(s)} | "
        f"mean abs {s['mean_abs_speaker_count_error']} | {_der_cell(o)} | "
        f"mean abs {o['mean_abs_speaker_count_error']} | "
        f"{_num(summary['streaming_rtf_cpu'], 3)} / {_num(summary['streaming_rtf_wall'], 3)} |"
    )


def print_with_asr(a: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    print(f"\n### With ASR ({a['model']}, real time, diarization on in the processor)\n")
    print("RTF and final lag in brackets: the same clip streamed with diarization off (baseline).\n")
    print(
        "| clip | processor DER | spk err | word spk acc | turn's first word | "
        "attribution delay p50 / p90 / max s | RTF process cpu | RTF diar cpu | final lag s | "
        "max diar lag s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        p, words = r["processor_der"], r["words"]
        print(
            f"| {r['clip']} | {_der_cell(p)} | {p['speaker_count_error']:+d} | "
            f"{_pct(words['accuracy'])} ({words['scored_words']} w) | "
            f"{_pct(words['turn_start_accuracy'])} ({words['turn_starts']}) | "
            f"{_delays(r['attribution_delay_s'])} | "
            f"{_with_baseline(r['rtf_process_cpu'], r.get('baseline_rtf_process_cpu'), 3)} | "
            f"{_num(r['rtf_diarization_cpu'], 3)} | "
            f"{_with_baseline(r['final_lag_s'], r.get('baseline_final_lag_s'), 2)} | "
            f"{_num(r['max_diarization_lag_s'])} |"
        )
    p = a["processor_der"]
    print(
        f"| **all** | {_der_cell(p)} | mean abs {p['mean_abs_speaker_count_error']} | "
        f"{_pct(a['word_speaker_accuracy'])} | {_pct(a['turn_start_accuracy'])} | "
        f"{_delays(a['attribution_delay_s'])} | "
        f"{_with_baseline(a['rtf_process_cpu'], a.get('baseline_rtf_process_cpu'), 3)} | "
        f"{_num(a['rtf_diarization_cpu'], 3)} | "
        f"max {_with_baseline(a['max_final_lag_s'], a.get('baseline_max_final_lag_s'), 2)} | |"
    )
    print(f"\nDER of the attributed words' spans (all clips): {_der_cell(a['word_der'])}")
    on, off = a["speech_to_line_s"], a.get("baseline_speech_to_line_s")
    print(
        f"word end in the audio -> word in a line, p50 / p90 / max s: {_delays(on)}"
        + (f" (diarization off: {_delays(off)})" if off else "")
    )


def print_gate_words(summary: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    print(
        "\n### Words through the speaker gate (one file decode's words, no clock: the same every run)\n"
    )
    print("| clip | word spk acc first shown / final | turn's first word first shown / final | relabels |")
    print("|---|---|---|---|")
    for r in rows:
        g = r["streaming"]["gate_words"]
        print(f"| {r['clip']} | {_first_and_final(g['first_shown'], g['final'])} | {g['relabels']} |")
    print(f"| **all** | {_first_and_final(summary['first_shown'], summary['final'])} | |")


def _first_and_final(first: dict[str, Any], final: dict[str, Any]) -> str:
    return (
        f"{_pct(first['accuracy'])} / {_pct(final['accuracy'])} ({final['scored_words']} w) | "
        f"{_pct(first['turn_start_accuracy'])} / {_pct(final['turn_start_accuracy'])} "
        f"({final['turn_starts']})"
    )


def print_tables(results: dict[str, Any]) -> None:
    summary = results["summary"]
    print_diarization_only(summary, results["clips"])
    if "gate_words" in summary:
        print_gate_words(summary["gate_words"], results["clips"])
    if results["with_asr"]:
        print_with_asr(summary["with_asr"], results["with_asr"])
    rss = summary["rss_mb"]
    with_asr = f", {rss['peak_with_asr']} MB with ASR" if "peak_with_asr" in rss else ""
    print(
        f"\npeak RSS: {rss['peak_diarization_only']} MB diarization only{with_asr} "
        f"(models loaded: +{rss['models_loaded'] - rss['before_models']:.0f} MB)"
    )
    print(f"load average at start: {results['config']['load_average']}")
