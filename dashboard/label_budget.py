"""The "Label budget" page's script: st.navigation runs this file on each of its reruns
(dashboard/budget_page.py holds the page)."""
from dashboard import budget_page

budget_page.render()
