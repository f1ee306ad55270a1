# Calls into each function from one callgrind output file (one thread's,
# with --separate-threads): prints "name count" per callee, the name without
# its symbol version (@@GLIBC_...) or callgrind's recursion mark ('2).
# callgrind names a function once as "cfn=(ID) name" and then by "cfn=(ID)"
# alone; each "calls=N ..." line after a cfn= line counts N calls into it.
/^c?fn=\(/ {
    id = $1
    sub(/^c?fn=/, "", id)
    sub(/\).*/, ")", id)
    name = $0
    sub(/^c?fn=\([0-9]+\) ?/, "", name)
    sub(/@.*/, "", name)
    sub(/'[0-9]+$/, "", name)
    if (name != "")
        names[id] = name
    if ($0 ~ /^cfn=/)
        callee = names[id]
}
/^calls=/ {
    n = $1
    sub(/^calls=/, "", n)
    count[callee] += n
}
END {
    for (f in count)
        print f, count[f]
}
