package api

import "net/http"

func (s *Server) registerOptOuts(mux *http.ServeMux) {}
