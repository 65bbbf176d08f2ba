"""Verbs on images: init, images, tag, rmi, image prune, history, and the archives: save, load,
import."""
import sys

from .. import BockerError, NotFound
from .verbs import (DEFAULT_IMAGE, FORCE, FORMAT, PRUNE_FILTER, QUIET, arg, confirm, default_image_warning,
                    prune_match, pruned, reclaimed, verb)


@verb("init", arg("directory", help="a root filesystem directory"), arg("name", help="NAME[:TAG]"))
def cmd_init(cfg, a):
    """Make an image from a directory (copied into a read-only btrfs subvolume)."""
    from .. import layerstore
    print(layerstore.init(cfg, a.directory, a.name))


@verb("images", arg("-q", "--quiet", action="store_true", help="only image ids"),
      arg("-a", "--all", action="store_true", help="also intermediate images (a build's steps)"),
      arg("--no-trunc", action="store_true", help="full ids"),
      arg("--digests", action="store_true", help="show repository digests"),
      arg("-f", "--filter", action="append", default=[], metavar="KEY=VALUE",
          help="dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE"),
      FORMAT, arg("reference", nargs="?", metavar="REPOSITORY[:TAG]", help="only these (a glob, as reference=)"))
def cmd_images(cfg, a):
    """List images: REPOSITORY TAG IMAGE ID CREATED SIZE."""
    from .. import fmt, images
    filters = fmt.parse_filters(a.filter, images.IMAGE_FILTERS)
    if a.reference:
        filters.setdefault("reference", []).append(images.familiar(a.reference))
    rows = images.filtered(cfg, images.listing(cfg, all_=a.all), filters)
    if a.quiet:
        seen = []
        for r in rows:
            if r["Id"] not in seen:
                seen.append(r["Id"])
                print(r["Id"] if a.no_trunc else r["ID"])
    elif fmt.is_template(a.format or ""):  # Docker's template fields: sizes as it shows them
        fmt.emit(fmt.for_template(rows), a.format, headers={"ID": "IMAGE ID", "CreatedSince": "CREATED"})
    elif a.format:
        fmt.emit(rows, a.format)
    else:
        digest = ["DIGEST"] if a.digests else []
        fmt.table(["REPOSITORY", "TAG"] + digest + ["IMAGE ID", "CREATED", "SIZE"],
                  [[r["Repository"], r["Tag"]] + [r["Digest"]] * a.digests +
                   [r["Id"] if a.no_trunc else r["ID"], r["CreatedSince"], fmt.human_size(r["Size"])] for r in rows])


@verb("tag", arg("source", help="image"), arg("target", help="NAME[:TAG]"))
def cmd_tag(cfg, a):
    """Give an image another name."""
    from .. import images
    images.add_tag(cfg, images.resolve(cfg, a.source), a.target)


@verb("rmi", arg("-f", "--force", action="store_true", help="even if containers use it"),
      arg("image", nargs="+", help="images to remove"))
def cmd_rmi(cfg, a):
    """Remove images (refused while a container uses one, unless -f)."""
    from .. import containers, images, layerstore
    failed = False
    for ref in a.image:
        try:
            for line in images.remove(cfg, ref, containers.all_records(cfg), force=a.force):
                print(line)
        except NotFound as e:
            if not a.force:  # rmi -f of nothing: nothing to do, as Docker
                print(f"bocker: {e}", file=sys.stderr)
                failed = True
        except BockerError as e:
            print(f"bocker: {e}", file=sys.stderr)
            failed = True
    layerstore.prune(cfg)  # pulled layers no image needs any more
    return 1 if failed else 0


@verb("image prune", arg("-a", "--all", action="store_true", help="all images not used by a container"),
      PRUNE_FILTER, FORCE)
def cmd_image_prune(cfg, a):
    """Remove dangling images (untagged and unused); -a: every unused image (asks first, unless -f)."""
    from .. import containers
    match = prune_match(a.filter)
    records = containers.all_records(cfg)
    what = ("all images without at least one container associated to them" if a.all
            else "all dangling images")
    if not confirm(f"This will remove {what}.{default_image_warning(cfg, a.all, records)}", a.force):
        return 0
    reclaimed(prune_images(cfg, a.all, match))


def prune_images(cfg, all_, match=None):
    """Remove the unused images (dangling ones, or all with all_): the bytes they held."""
    from .. import containers, images, layerstore
    sizes = {i: images.size(cfg, i) for i in images.all_ids(cfg)}
    lines = images.prune(cfg, containers.all_records(cfg), all_=all_, match=match)
    pruned("Deleted Images", [line[0].lower() + line[1:] for line in lines] +
           [f"deleted layer: {chain}" for chain in layerstore.prune(cfg)])
    if f"Untagged: {DEFAULT_IMAGE}" in lines:
        print(f"bocker: warning: the default image {DEFAULT_IMAGE} was removed: `bocker setup` makes it again",
              file=sys.stderr)
    return sum(sizes.get(line.split(":")[-1], 0) for line in lines if line.startswith("Deleted: sha256:"))


@verb("save", arg("-o", "--output", help="file (or directory for oci-dir); default: stdout"),
      arg("--format", default="docker-archive", choices=("docker-archive", "oci-archive", "oci-dir"),
          help="archive format (default docker-archive)"),
      arg("images", nargs="+", help="images to save"))
def cmd_save(cfg, a):
    """Save images to a tar archive (docker-archive, oci-archive) or an OCI layout directory."""
    from .. import archive
    archive.save(cfg, a.images, out_path=a.output, fmt=a.format)


@verb("load", arg("-i", "--input", help="archive (tar or OCI directory); default: stdin"), QUIET,
      arg("--platform", help="os/arch for multi-platform OCI layouts"))
def cmd_load(cfg, a):
    """Load images from a docker-archive or OCI layout (tar or directory)."""
    from .. import archive
    for line in archive.load(cfg, a.input, quiet=a.quiet, platform=a.platform):
        print(line)


@verb("import", arg("-c", "--change", action="append", default=[], help="Dockerfile instruction: CMD, ENV, ..."),
      arg("-m", "--message", default="", help="commit message"),
      arg("file", help="tar archive (plain, gzip or zstd), or - for stdin"),
      arg("name", nargs="?", help="NAME[:TAG] of the new image"))
def cmd_import(cfg, a):
    """Make an image from a root filesystem tarball (safely extracted: no path escapes)."""
    from .. import archive
    print("sha256:" + archive.import_tar(cfg, a.file, a.name, changes=a.change, message=a.message))


@verb("history", arg("-H", "--human", action="store_true", default=True, help="human sizes and dates (default)"),
      arg("--no-trunc", action="store_true", help="do not truncate output"),
      arg("-q", "--quiet", action="store_true", help="only image ids"), FORMAT,
      arg("image", help="image"))
def cmd_history(cfg, a):
    """Show the history of an image: IMAGE CREATED CREATED BY SIZE COMMENT."""
    from .. import fmt, layerstore
    rows = layerstore.history(cfg, a.image)
    if a.quiet:
        for r in rows:
            print(r["Id"] if a.no_trunc or r["Id"] == "<missing>" else r["Id"][7:19])
        return
    if a.format:
        fmt.emit(rows, a.format)
        return

    def by(c):
        c = c.replace("\n", " ")
        return c if a.no_trunc or len(c) <= 45 else c[:44] + "…"
    fmt.table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
              [[r["Id"] if a.no_trunc or r["Id"] == "<missing>" else r["Id"][7:19], fmt.ago(r["Created"]),
                by(r["CreatedBy"]), fmt.human_size(r["Size"]), r["Comment"]] for r in rows])
