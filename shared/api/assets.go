package api

import "net/http"

func (s *Server) registerAssets(mux *http.ServeMux) {}
