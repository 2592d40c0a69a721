"""SGAN Studio core library: config, data, models, training; no Streamlit here."""
