# make demo: real work for a real program on scmalloc (perl is on every
# Debian system): a hash of 300000 keys, grown, read and shrunk.
use strict;
use warnings;
my %h;
$h{"key$_"} = "v" x ($_ % 100) for 1 .. 300000;
my $bytes = 0;
$bytes += length $h{$_} for keys %h;
delete $h{"key$_"} for grep { $_ % 3 } 1 .. 300000;
printf "perl: 300000 keys, %d bytes of values, %d keys left after deleting two thirds\n", $bytes, scalar keys %h;
