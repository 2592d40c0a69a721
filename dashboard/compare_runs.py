"""The "Compare runs" page's script: st.navigation runs this file on each of its reruns
(dashboard/compare_page.py holds the page)."""
from dashboard import compare_page

compare_page.render()
