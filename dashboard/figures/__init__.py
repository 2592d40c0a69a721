"""Pure pictures, no streamlit: snapshot parts -> plotly figures, Vega-Lite specs,
images, the confusion cells' images, the film strip, the drawing's recipe, which
timeline moment a tab shows. Tested without a page.
"""
