-- The library's search ranking. Schema version 13. The rank of library_fts becomes mes_rank
-- (node/library/rank.c): BM25 without document-length normalisation, which needs no column
-- sizes per match, with the same column weights as before (title 10, description 4, authors
-- 2, text 1).
INSERT INTO library_fts (library_fts, rank) VALUES ('rank', 'mes_rank(10.0, 4.0, 2.0, 1.0)');
