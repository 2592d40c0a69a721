"""The live page's sidebar: its settings (widgets -> TrainConfig), the typed-number
rules, and the Save, open, share box.
"""
