"""The Label budget page: the studies it launches and reads back, the shipped studies,
their chart and table.
"""
