"""The pages, one room each: the live page (live/: its script, where its panels go,
the presenter view), the Label budget page (budget/) and the Compare runs page
(compare/). Not called pages/: Streamlit takes a pages/ folder beside the entry script
for its own old multipage mode.
"""
