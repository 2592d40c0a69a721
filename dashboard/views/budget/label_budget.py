"""The "Label budget" page's script: st.navigation runs this file on each of its reruns
(dashboard/views/budget/page.py holds the page)."""
from dashboard.views.budget import page as budget_page

budget_page.render()
