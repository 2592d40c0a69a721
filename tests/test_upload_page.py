"""The upload panel through AppTest: a picture too big to read is refused on the page
in a sentence that gives its size and says what to do."""
from __future__ import annotations

import io

from tests.test_app import fake_engine, new_page, server  # noqa: F401


def test_a_huge_upload_is_refused_on_the_page_with_its_size(fake_engine):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, format="PNG")
    at = new_page()
    at.button(key="b_start").click().run()
    at.file_uploader(key="w_upload").set_value(("wall.png", buffer.getvalue(), "image/png"))
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "This picture is 20,000 x 20,000 pixels (400 million); at most 50 million pixels "
        "are read: shrink it and upload again."]
