"""What an order's link may be: an http(s) URL or a bare host/path, read as a URL."""

import pytest

from smmpanel.orders.validation import is_valid_link

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

INVISIBLE = [
    "\x7f",  # DEL
    "\x80",  # the C1 controls, U+0080 to U+009F
    "\x9b",
    "\x9f",
    "\u061c",  # bidirectional marks, embeddings, overrides and isolates
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]


@pytest.mark.parametrize("character", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize(
    "template", ["https://x.com/p/{}abc", "https://x{}.com/", "instagram.com/{}user"]
)
def test_control_and_bidirectional_characters_are_refused(template, character):
    assert not is_valid_link(template.format(character))


@pytest.mark.parametrize(
    "link",
    [
        "https://x.com:99999/p",
        "https://x.com:65536/p",
        "https://x.com:abc/p",
        "https://x.com:-1/p",
        "https://x.com:0/p",
        "http://x.com: 80/p",
    ],
)
def test_a_port_must_be_a_number_from_1_to_65535(link):
    assert not is_valid_link(link)


@pytest.mark.parametrize(
    "link",
    [
        "https://../p",
        "https://a..b/p",
        "https://.x.com/p",
        "https://x.com../p",
        "https://-x.com/p",
        "https://x-.com/p",
        "https://ex!ample.com/p",
        "https://%00.com/p",
        "https://" + "a" * 64 + ".com/p",
        "https://" + "abcdefghi." * 26 + "com/p",  # 263 characters: more than a name holds
        "https://例..jp/p",
        "https://-例え.jp/p",
        "https://[zz]/p",
    ],
)
def test_a_host_must_be_a_name_or_an_address(link):
    assert not is_valid_link(link)


@pytest.mark.parametrize(
    "link",
    [
        "https://www.instagram.com/p/abc/",
        "http://t.me/channel",
        "instagram.com/natgeo",
        "www.tiktok.com/@user/video/123?lang=en",
        "HTTPS://WWW.YouTube.com/watch?v=1&t=2#c",
        "https://x.com/" + "\u4e00" * 600,
        "https://例え.jp/パス",
        "https://bücher.de/",
        "https://xn--bcher-kva.de/",
        "https://ＷＷＷ.example.com/",  # full-width letters, mapped as browsers do
        "https://my_blog.example.com/",
        "https://x.com./p",
        "https://x.com:8443/p",
        "https://x.com:/p",
        "http://1.2.3.4:8080/p",
        "http://[::1]/p",
        "https://user:secret@x.com/p",
        "https://localhost/p",
        "https://x.com/\u200d/%E2%80%AE",  # a joiner in a path, and encoded characters, pass
        "https://" + "a" * 63 + ".com/p",
    ],
)
def test_links_as_people_paste_them_are_accepted(link):
    assert is_valid_link(link)
