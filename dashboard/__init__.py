"""SGAN Studio's Streamlit front end: reads snapshots, never touches tensors."""
