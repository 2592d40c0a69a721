"""The "Compare runs" page's script: st.navigation runs this file on each of its reruns
(dashboard/views/compare/page.py holds the page)."""
from dashboard.views.compare import page as compare_page

compare_page.render()
