"""A Streamlit dashboard that k8or k8orizes in its examples and benchmark: a dataframe, a line chart,
and a button that reveals a bar chart, the shape of most internal dashboards.

The data is made here (no file, no network), so every run renders the same page.
"""

import json
import logging
import sys

import numpy as np
import pandas as pd
import streamlit as st

logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
log = logging.getLogger("k8or-dashboard")

st.set_page_config(page_title="k8or sales dashboard", page_icon=":bar_chart:", layout="wide")
st.title("Sales dashboard")

days = pd.date_range("2024-01-01", periods=60, freq="D")
rng = np.random.default_rng(seed=7)
sales = pd.DataFrame(
    {
        "day": days,
        "north": rng.normal(100, 12, len(days)).cumsum().round(1),
        "south": rng.normal(90, 15, len(days)).cumsum().round(1),
        "west": rng.normal(80, 10, len(days)).cumsum().round(1),
    }
)

st.subheader("Daily sales")
st.dataframe(sales.tail(10), hide_index=True)
st.line_chart(sales, x="day", y=["north", "south", "west"])

totals = sales[["north", "south", "west"]].iloc[-1].rename("total").to_frame()
if st.button("Show totals by region"):
    st.bar_chart(totals)

log.info(json.dumps({"event": "dashboard_rendered", "rows": len(sales)}))
