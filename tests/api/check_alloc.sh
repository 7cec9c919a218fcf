#!/bin/sh
# check_alloc.sh SRC_ROOT - every allocation in lib/ goes through lib/base/alloc.c (lai_malloc &
# co. use the host allocator of the model a call works for): no direct call of the C
# library's allocation functions anywhere else in lib/ (comments and strings aside).
set -eu
root=$1
hits=$(find "$root/lib" -name '*.[ch]' ! -path "$root/lib/base/alloc.c" -print | sort | xargs perl -ne '
  BEGIN { $in = 0 }
  my $line = $_;
  # drop comments (also ones spanning lines) and string literals, then look for a call
  # not preceded by an identifier character, "." or ">" (members such as host->free)
  if ($in) { if ($line =~ s{^.*?\*/}{}) { $in = 0 } else { next } }
  $line =~ s{/\*.*?\*/}{}g;
  if ($line =~ s{/\*.*$}{}) { $in = 1 }
  $line =~ s{//.*$}{};
  $line =~ s{"(\\.|[^"\\])*"}{""}g;
  print "$ARGV:$.: $_" if $line =~ /(?<![\w.>])(malloc|calloc|realloc|free|strdup|strndup|aligned_alloc|posix_memalign|memalign|valloc)\s*\(/;
  close ARGV if eof;
')
if [ -n "$hits" ]; then
  echo "check_alloc.sh: allocation outside lib/base/alloc.c (use lai_malloc/lai_free):"
  echo "$hits"
  exit 1
fi
echo "check_alloc.sh: lib/ allocates only through lib/base/alloc.c"
