"""The Live training page: its script (the run from the URL, the sidebar, the pressed
button's action), where its panels go and how often each redraws, and the presenter
view.
"""
