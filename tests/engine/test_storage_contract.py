"""The ObjectStorage contract, run against every implementation."""

from __future__ import annotations

import io

import pytest

from logflow.errors import ConfigError, ObjectNotFoundError
from logflow.storage import LocalStorage, MemoryStorage, ObjectStorage, load_storage


@pytest.fixture(params=["local", "memory"])
def storage(request, tmp_path) -> ObjectStorage:
    if request.param == "local":
        return load_storage("local", root=tmp_path / "objects")
    return load_storage("memory")


def test_storage_put_get_roundtrip(storage):
    storage.put("a/b.bin", b"\x00\x01payload")
    assert storage.get("a/b.bin") == b"\x00\x01payload"
    storage.put("a/b.bin", io.BytesIO(b"replaced"))
    assert storage.get("a/b.bin") == b"replaced"


def test_storage_head_reports_size_and_metadata(storage):
    storage.put("k", b"12345", content_type="text/plain", metadata={"owner": "etl"})
    info = storage.head("k")
    assert (info.key, info.size, info.content_type, dict(info.metadata)) == (
        "k",
        5,
        "text/plain",
        {"owner": "etl"},
    )
    assert info.last_modified > 0 and info.etag


def test_storage_etag_changes_with_content(storage):
    storage.put("k", b"one")
    first = storage.head("k").etag
    storage.put("k", b"other content")
    assert storage.head("k").etag != first


def test_storage_missing_keys_raise_typed_errors(storage):
    for call in (storage.get, storage.delete, storage.head):
        with pytest.raises(ObjectNotFoundError):
            call("nope")
    with pytest.raises(FileNotFoundError):  # the builtin a caller already catches
        storage.get("nope")
    assert storage.exists("nope") is False


def test_storage_delete_and_exists(storage):
    storage.put("x/y", b"1")
    assert storage.exists("x/y")
    storage.delete("x/y")
    assert not storage.exists("x/y")


def test_storage_list_is_sorted_and_filtered_by_prefix(storage):
    for key in ["b/2", "a/1", "b/1", "c", "b/sub/3"]:
        storage.put(key, b"x")
    assert [o.key for o in storage.list("b/").objects] == ["b/1", "b/2", "b/sub/3"]
    assert [o.key for o in storage.list().objects] == ["a/1", "b/1", "b/2", "b/sub/3", "c"]


def test_storage_list_with_delimiter_rolls_up_folders(storage):
    for key in ["b/2", "a/1", "b/1", "c", "b/sub/3"]:
        storage.put(key, b"x")
    page = storage.list(delimiter="/")
    assert [o.key for o in page.objects] == ["c"]
    assert page.prefixes == ("a/", "b/")
    page = storage.list("b/", delimiter="/")
    assert [o.key for o in page.objects] == ["b/1", "b/2"]
    assert page.prefixes == ("b/sub/",)


def test_storage_list_paginates_without_gaps_or_repeats(storage):
    keys = [f"p/{i:03d}" for i in range(25)]
    for key in reversed(keys):
        storage.put(key, b"x")
    seen, token, pages = [], None, 0
    while True:
        page = storage.list("p/", max_keys=7, start_after=token)
        pages += 1
        assert len(page.objects) <= 7
        seen.extend(o.key for o in page.objects)
        if page.next_token is None:
            break
        token = page.next_token
    assert seen == keys and pages == 4
    assert [o.key for o in storage.iter_objects("p/", page_size=4)] == keys


def test_storage_list_rejects_nonpositive_page_size(storage):
    with pytest.raises(ConfigError):
        storage.list(max_keys=0)


def test_storage_copy_keeps_content_and_metadata(storage):
    storage.put("src", b"data", content_type="application/x", metadata={"m": "1"})
    storage.copy("src", "dst/copy")
    assert storage.get("dst/copy") == b"data"
    assert dict(storage.head("dst/copy").metadata) == {"m": "1"}
    assert storage.get("src") == b"data"
    with pytest.raises(ObjectNotFoundError):
        storage.copy("missing", "x")


def test_storage_delete_many_counts_only_existing(storage):
    for key in ["d/1", "d/2", "d/3"]:
        storage.put(key, b"x")
    assert storage.delete_many(["d/1", "d/3", "d/nope"]) == 2
    assert [o.key for o in storage.list("d/").objects] == ["d/2"]


def test_storage_local_refuses_escaping_keys(tmp_path):
    s = LocalStorage(tmp_path / "root")
    for bad in ["../etc/passwd", "/abs", "a/../../b", ""]:
        with pytest.raises(ConfigError):
            s.put(bad, b"x")


def test_storage_local_writes_are_files_under_root(tmp_path):
    s = LocalStorage(tmp_path / "root")
    s.put("dir/file.txt", b"hello")
    assert (tmp_path / "root" / "dir" / "file.txt").read_bytes() == b"hello"
    s.delete("dir/file.txt")
    assert not (tmp_path / "root" / "dir").exists()  # empty folders go too


def test_storage_registry_knows_defaults_and_rejects_unknown():
    assert isinstance(load_storage("memory"), MemoryStorage)
    with pytest.raises(ConfigError, match="unknown storage"):
        load_storage("s3-someday")
