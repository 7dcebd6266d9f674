"""A small Streamlit app that k8or k8orizes in its example and benchmark.

It reads nothing but its own inputs, logs one structured line per run, and renders a
page: enough for the trace to see what a real browser session makes the script do.
"""

import json
import logging
import statistics
import sys

import streamlit as st

logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
log = logging.getLogger("k8or-example")

st.set_page_config(page_title="k8or example", page_icon=":ship:")
st.title("k8or example app")
st.write("A tiny Streamlit app used to show Level-3 k8orization.")

samples = [3, 1, 4, 1, 5, 9, 2, 6]
count = st.slider("How many samples", min_value=1, max_value=len(samples), value=len(samples))
chosen = samples[:count]
st.metric("Mean", f"{statistics.mean(chosen):.2f}")
st.metric("Median", f"{statistics.median(chosen):.2f}")
st.markdown("\n".join(f"- sample {i}: **{v}**" for i, v in enumerate(chosen, start=1)))

log.info(json.dumps({"event": "page_rendered", "samples": count, "mean": statistics.mean(chosen)}))
